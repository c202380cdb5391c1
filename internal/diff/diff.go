package diff

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// phase orders the changes of a plan for execution: creates before grants,
// parents before members, removals last.
type phase int

const (
	phRoleCreate phase = iota
	phRoleAlter
	phPassword
	phMembership
	phDatabaseCreate
	phDatabaseAlter
	phInside // schemas and extensions
	phPrivilege
	phParameter
	phHBA
	phRevoke
	phDropInside
	phDropDatabase
	phDropRole
	phNote
	nPhases
)

// Cluster returns the plan that converges one cluster: its cluster-wide
// objects against the primary's live state (the replicas receive them by
// replication), its parameters and pg_hba.conf against every instance's.
// live maps instance names (<cluster>-<seq>) to inspected state; an
// instance missing from it is skipped (the caller reports it unreachable).
func Cluster(c *model.Cluster, live map[string]*model.InstanceState) plan.ClusterPlan {
	b := &builder{c: c, primary: c.Primary()}
	if b.primary != nil {
		b.pl = live[b.primary.Name()]
	}
	if b.pl != nil {
		b.index()
		b.now = b.pl.Now.UTC()
		b.self = b.pl.Session.User
		b.roles()
		b.databases()
		b.privileges()
		b.unmanaged()
	}
	for _, in := range c.Instances {
		if st := live[in.Name()]; st != nil {
			b.parameters(in, st)
			b.hba(in, st)
		}
	}
	out := plan.ClusterPlan{Name: c.Name}
	for _, in := range c.Instances {
		out.Instances = append(out.Instances, plan.Instance{Name: in.Name(), Role: string(in.Role),
			Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Port))})
	}
	for _, ph := range b.phases {
		out.Changes = append(out.Changes, ph...)
	}
	return out
}

type builder struct {
	c       *model.Cluster
	primary *model.Instance
	pl      *model.InstanceState // the primary's live state
	now     time.Time            // the primary's clock, UTC
	self    string               // the role the reconciler logs in as
	phases  [nPhases][]plan.Change

	// Indexes: clusters hold tens of thousands of roles.
	liveRoles map[string]*model.LiveRole
	liveDBs   map[string]*model.LiveDatabase
	declared  map[string]*model.Role
}

func (b *builder) index() {
	b.liveRoles = make(map[string]*model.LiveRole, len(b.pl.Roles))
	for _, r := range b.pl.Roles {
		b.liveRoles[r.Name] = r
	}
	b.liveDBs = make(map[string]*model.LiveDatabase, len(b.pl.Databases))
	for _, d := range b.pl.Databases {
		b.liveDBs[d.Name] = d
	}
	b.declared = make(map[string]*model.Role, len(b.c.Roles))
	for _, r := range b.c.Roles {
		if _, dup := b.declared[r.Name]; !dup {
			b.declared[r.Name] = r
		}
	}
}

// add appends a change to a phase, filling in the cluster and, for
// cluster-wide changes, the primary's instance name.
func (b *builder) add(ph phase, ch plan.Change) {
	ch.Cluster = b.c.Name
	if ch.Instance == "" && b.primary != nil {
		ch.Instance = b.primary.Name()
	}
	b.phases[ph] = append(b.phases[ph], ch)
}

// stmt builds a statement for the maintenance database.
func stmt(format string, args ...any) plan.Statement {
	return plan.Statement{SQL: fmt.Sprintf(format, args...)}
}

// inDB builds a statement that runs in database db.
func inDB(db, format string, args ...any) plan.Statement {
	return plan.Statement{SQL: fmt.Sprintf(format, args...), Database: db}
}

// noTx builds a statement PostgreSQL refuses inside a transaction block.
func noTx(format string, args ...any) plan.Statement {
	return plan.Statement{SQL: fmt.Sprintf(format, args...), NoTx: true}
}

// protected reports whether a role must never be locked out by a plan:
// the dbsu and the role the reconciler itself logs in as.
func (b *builder) lockoutProtected(name string) (bool, string) {
	switch name {
	case b.self:
		return true, "it is the role the reconciler logs in as"
	case b.c.Globals.DBSU:
		return true, "it is the dbsu (pg_dbsu)"
	}
	return false, ""
}

func onOff(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}
