package pgbouncer

import (
	"fmt"
	"net/netip"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Victim is a connection a new pgb_hba.conf and userlist.txt must keep
// letting in.
type Victim struct {
	Conn hba.Conn
	// OSUser is the client's operating-system user on a local connection,
	// which peer compares with Conn.User; "" when it is not known (peer
	// then does not let it in).
	OSUser string
	Who    string // for messages: "dbuser_monitor to database pgbouncer over the local socket"
}

// AdminDatabase is PgBouncer's admin console: the virtual database its
// admin_users and stats_users connect to.
const AdminDatabase = "pgbouncer"

// Victims are the connections the pooler of instance in must never lock
// out, known from the spec alone (pgb_hba.conf's defaults keep each of
// them open):
//
//   - the dbsu over the local socket to the admin console, by peer: how an
//     operator on the host reaches it (Pigsty's "pgb" alias, pg_isready
//     after a reload);
//   - the monitor user over the local socket to the admin console, with
//     its password: Pigsty's pg_exporter scrapes PgBouncer that way;
//   - the admin user from the admin node (admin_ip) to the admin console,
//     with its password, over TLS when the pooler offers it
//     (pgbouncer_sslmode other than disable).
//
// The apply adds the reconciler's own connection to the admin console, as
// the pooler sees it, with the user it logs in as.
func Victims(c *model.Cluster, in *model.Instance) []Victim {
	g := c.Globals
	vs := []Victim{
		{Conn: hba.Conn{Local: true, Database: AdminDatabase, User: g.DBSU}, OSUser: g.DBSU,
			Who: g.DBSU + " (dbsu) to database pgbouncer over the local socket"},
		{Conn: hba.Conn{Local: true, Database: AdminDatabase, User: g.MonitorUser},
			Who: g.MonitorUser + " (monitor) to database pgbouncer over the local socket"},
	}
	if ip, err := netip.ParseAddr(g.AdminIP); err == nil {
		ssl := in.Pooler.SSLMode != "" && in.Pooler.SSLMode != "disable"
		vs = append(vs, Victim{Conn: hba.Conn{Addr: ip, SSL: ssl, Database: AdminDatabase, User: g.AdminUser},
			Who: fmt.Sprintf("%s (admin) to database pgbouncer from the admin node %s", g.AdminUser, g.AdminIP)})
	}
	return vs
}

// Lockout judges pgb_hba.conf's active lines (and, when users is not nil,
// userlist.txt) for every victim, as PgBouncer would decide: the first
// matching line (hba.Match, exact on the subset PgBouncer reads) must not
// reject it, peer needs the client's OS user to be the user, cert needs a
// client certificate (which no victim has), and a password method needs a
// userlist.txt entry with a password for the user. It returns one problem
// per victim that would be locked out, none when the files are safe.
func Lockout(lines []hba.Line, users *UserlistFile, victims []Victim) []string {
	var problems []string
	for _, v := range victims {
		d := hba.Decide(lines, v.Conn, nil)
		if d.Line == nil {
			problems = append(problems, "no line of pgb_hba.conf would allow "+v.Who)
			continue
		}
		at := fmt.Sprintf("pgb_hba.conf line %d %q", d.N, d.Text)
		switch m := d.Line.Method; {
		case d.Undecided:
			problems = append(problems, at+" decides for "+v.Who+", but only PgBouncer can evaluate it")
		case m == "reject":
			problems = append(problems, at+" would reject "+v.Who)
		case m == "peer" && (v.OSUser == "" || v.OSUser != v.Conn.User):
			problems = append(problems, at+" asks peer of "+v.Who+", whose OS user is not "+v.Conn.User)
		case m == "cert":
			problems = append(problems, at+" asks a client certificate of "+v.Who)
		case m == "trust" || m == "peer" || users == nil:
		default:
			switch e := users.Entry(v.Conn.User); {
			case e == nil || e.Source != Unknown && e.Password.IsZero():
				problems = append(problems, at+" asks a password of "+v.Who+", and userlist.txt holds none for "+v.Conn.User)
			case m == "scram-sha-256" && e.Password.Kind() == model.SecretMD5:
				problems = append(problems, at+" asks scram-sha-256 of "+v.Who+", and userlist.txt holds an md5 hash for "+v.Conn.User)
			}
		}
	}
	return problems
}
