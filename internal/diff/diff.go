package diff

import (
	"net"
	"strconv"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
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
	phPgBouncer // after every role and password change: userlist.txt copies pg_authid
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
	b := &builder{c: c, primary: c.Primary(), newHBA: map[string][]hba.Line{}}
	if b.primary != nil {
		b.pl = live[b.primary.Name()]
	}
	if b.pl != nil {
		b.index()
		b.now = b.pl.Now.UTC()
		b.self = b.pl.Session.User
		b.version = b.pl.Version
		b.policy = protect.New(c.Globals, "", b.self)
		b.roles()
		b.databases()
		b.privileges()
		b.unmanaged()
	}
	for _, in := range c.Instances {
		if st := live[in.Name()]; st != nil {
			b.serverMajor(in, st)
			b.parameters(in, st)
			b.hba(in, st)
			b.pooler(in, st)
		}
	}
	b.impact(live)
	out := plan.ClusterPlan{Name: c.Name}
	for _, in := range c.Instances {
		out.Instances = append(out.Instances, plan.Instance{Name: in.Name(), Role: string(in.Role),
			Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Port))})
	}
	n := 0
	for _, ph := range b.phases {
		n += len(ph)
	}
	out.Changes = make([]plan.Change, 0, n)
	for _, ph := range b.phases {
		for _, ch := range ph {
			out.Changes = append(out.Changes, *ch)
		}
	}
	return out
}

type builder struct {
	c       *model.Cluster
	primary *model.Instance
	pl      *model.InstanceState    // the primary's live state
	now     time.Time               // the primary's clock, UTC
	self    string                  // the role the reconciler logs in as
	version int                     // the primary's server_version_num
	policy  protect.Policy          // who must never be locked out or removed
	phases  [nPhases][]*plan.Change // pointers: a plan of tens of thousands of changes grows these cheaply

	// Indexes: clusters hold tens of thousands of roles.
	liveRoles map[string]*model.LiveRole
	liveDBs   map[string]*model.LiveDatabase
	declared  map[string]*model.Role

	newHBA    map[string][]hba.Line // the rendered rules of each instance whose pg_hba.conf is planned
	liveGraph memberGraph           // the live memberships, for the impact preview
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
// cluster-wide changes, the primary's instance name. The statements of a
// planned change are rendered from its intent; a report or a note has
// none.
func (b *builder) add(ph phase, ch plan.Change) {
	ch.Cluster = b.c.Name
	if ch.Instance == "" && b.primary != nil {
		ch.Instance = b.primary.Name()
	}
	ch.Statements = ch.Render(b.version)
	b.phases[ph] = append(b.phases[ph], &ch)
}

func onOff(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func ptrTo[T any](v T) *T { return &v }
