package protect

import (
	"slices"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// Who is why a role is protected: which of the roles a cluster cannot
// lose it is. None means it is not protected.
type Who int

const (
	None        Who = iota
	Self            // the role the reconciler logs in as
	DBSU            // pg_dbsu: Patroni and local tools log in as it over the socket
	Replication     // pg_replication_username: the replicas stream as it, their Patroni holds its password
	Admin           // pg_admin_username
	Monitor         // pg_monitor_username
	Reserved        // a pg_* role: PostgreSQL's own
)

// String names the role for a refusal ("role x is <String>: …").
func (w Who) String() string {
	switch w {
	case Self:
		return "the reconciler's own login role"
	case DBSU:
		return "the dbsu (pg_dbsu)"
	case Replication:
		return "the replication user (pg_replication_username)"
	case Admin:
		return "the admin user (pg_admin_username)"
	case Monitor:
		return "the monitor user (pg_monitor_username)"
	case Reserved:
		return "reserved (pg_ prefix)"
	}
	return "not protected"
}

// Policy is who is protected on one cluster.
type Policy struct {
	self        []string // the role(s) the reconciler logs in as
	dbsu        []string // the spec's, and the one the executor is given (apply.Options.DBSU)
	replication string
	admin       string
	monitor     string
}

// New is the policy of a cluster with globals g, on which the reconciler
// logs in as self; dbsu, when given and not g's, is protected as the dbsu
// too.
func New(g model.Globals, dbsu string, self ...string) Policy {
	p := Policy{self: self, dbsu: []string{g.DBSU}, replication: g.ReplicationUser, admin: g.AdminUser, monitor: g.MonitorUser}
	if dbsu != "" && dbsu != g.DBSU {
		p.dbsu = append(p.dbsu, dbsu)
	}
	return p
}

// who is the first of ws that role is, in the order given.
func (p Policy) who(role string, ws ...Who) Who {
	if role == "" {
		return None
	}
	for _, w := range ws {
		var is bool
		switch w {
		case Self:
			is = slices.Contains(p.self, role)
		case DBSU:
			is = slices.Contains(p.dbsu, role)
		case Replication:
			is = role == p.replication
		case Admin:
			is = role == p.admin
		case Monitor:
			is = role == p.monitor
		case Reserved:
			is = strings.HasPrefix(role, "pg_") // PostgreSQL reserves the prefix itself
		}
		if is {
			return w
		}
	}
	return None
}

// Removal says why role may never be dropped, or None: the reconciler's
// own login, every system user Pigsty creates, PostgreSQL's pg_* roles.
func (p Policy) Removal(role string) Who {
	return p.who(role, Self, DBSU, Replication, Admin, Monitor, Reserved)
}

// Password says why role's password is never changed by the reconciler,
// or None: its own login (it would lock itself out), the dbsu (Patroni and
// local tools hold it) and the replication user (the replicas' Patroni
// holds the old one and could not reconnect).
func (p Policy) Password(role string) Who {
	return p.who(role, Self, DBSU, Replication)
}

// Refusal is one attribute change the policy refuses.
type Refusal struct {
	Attr plan.RoleAttr
	Who  Who
}

// Attributes returns the attribute changes a that would lock role out,
// in a's order: NOLOGIN or NOSUPERUSER for the reconciler's own login and
// the dbsu; NOLOGIN or NOREPLICATION for the replication user (the
// replicas would lose their stream); CONNECTION LIMIT 0 for the
// reconciler's own login when it is not a superuser (superusers are not
// held to it); a VALID UNTIL in the past (by now) for its own login.
func (p Policy) Attributes(role string, a plan.RoleAttrs, superuser bool, now time.Time) []Refusal {
	var out []Refusal
	off := func(attr plan.RoleAttr, v *bool, ws ...Who) {
		if v != nil && !*v {
			if w := p.who(role, ws...); w != None {
				out = append(out, Refusal{attr, w})
			}
		}
	}
	off(plan.AttrLogin, a.Login, Self, DBSU, Replication)
	off(plan.AttrSuperuser, a.Superuser, Self, DBSU)
	off(plan.AttrReplication, a.Replication, Replication)
	if a.ConnLimit != nil && *a.ConnLimit == 0 && !superuser && p.who(role, Self) == Self {
		out = append(out, Refusal{plan.AttrConnLimit, Self})
	}
	if t, ok := a.Expiry(); ok && t.Before(now) && p.who(role, Self) == Self {
		out = append(out, Refusal{plan.AttrValidUntil, Self})
	}
	return out
}
