package diff

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// poolerFixture is fixture with a PgBouncer beside the instance whose
// live state is exactly what the spec renders: database app with
// pool_size 7, the admin's verifier in pg_authid.
func poolerFixture(t *testing.T) (*model.Cluster, map[string]*model.InstanceState) {
	t.Helper()
	c, live := fixture()
	in := c.Instances[0]
	in.Pooler = model.Pooler{Enabled: true, Port: 6432, SSLMode: "disable", Localhost: "/var/run/postgresql",
		HBA: []model.HBARule{{User: "all", DB: "all", Addr: "10.0.0.0/8", Auth: "pwd", Title: "intranet", Default: true}}}
	c.Databases = append(c.Databases, &model.Database{Name: "app", State: model.DatabaseCreate, Pgbouncer: true, PoolSize: ptr(7)})
	st := live["pg-x-1"]
	st.Role("dbuser_dba").Password = model.NewSecret(adminVerifier)
	want, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: map[string]model.Secret{"dbuser_dba": model.NewSecret(adminVerifier)}})
	if err != nil {
		t.Fatal(err)
	}
	userlist, err := want.Userlist.Text()
	if err != nil {
		t.Fatal(err)
	}
	st.Pooler = &model.PoolerState{Instance: "pg-x-1",
		Config: map[string]string{"auth_type": "hba", "listen_port": "6432", "client_tls_sslmode": "disable", "verbose": "0",
			"admin_users": "postgres, dbuser_dba", "stats_users": "postgres, dbuser_monitor",
			"default_pool_size": "50", "min_pool_size": "0", "reserve_pool_size": "30", "max_db_connections": "100"},
		Databases: []model.PoolerDatabase{{Name: "app", Host: "/var/run/postgresql", Port: 5432, PoolSize: 7, ReservePool: 30, MaxConnections: 100},
			{Name: "pgbouncer", Port: 6432, PoolSize: 2}},
		Userlist: model.PoolerSecretFile{Path: "/etc/pgbouncer/userlist.txt", Content: userlist},
		Useropts: model.PoolerFile{Path: "/etc/pgbouncer/useropts.txt", Text: want.Useropts},
		Database: model.PoolerFile{Path: "/etc/pgbouncer/database.txt", Text: want.Database},
		HBA:      model.PoolerFile{Path: "/etc/pgbouncer/pgb_hba.conf", Text: want.HBA.Text},
	}
	return c, live
}

const adminVerifier = "SCRAM-SHA-256$4096:Q7gTQQW1AJIDkmL3RnCe5w==$dnFJKN1dtkf+GE9/HwwIyiW92sx4MDTdib4rKqDowsY=:TsmFfT4ULBaWysYIfSktzV15MkaycoLzypWw35vRg+w="

func TestPoolerInSync(t *testing.T) {
	c, live := poolerFixture(t)
	if chs := changesOf(Cluster(c, live), plan.KindPgBouncer); len(chs) > 0 {
		t.Fatalf("a pooler holding the rendered files is drift: %+v", chs)
	}
	live["pg-x-1"].Pooler = nil // poolers not read: nothing planned, nothing reported
	if chs := changesOf(Cluster(c, live), plan.KindPgBouncer); len(chs) > 0 {
		t.Fatalf("a pooler not read is planned: %+v", chs)
	}
}

func TestPoolerDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *model.Cluster, st *model.InstanceState)
		action plan.Action
		object string
		diff   string // a line the change's diff must hold
	}{
		{"a hand-edited userlist.txt", func(_ *model.Cluster, st *model.InstanceState) {
			st.Pooler.Userlist.Content = model.NewSecret(st.Pooler.Userlist.Content.Reveal() + `"intruder" "` + adminVerifier + `"` + "\n")
		}, plan.ActionChange, "userlist.txt", `- "intruder" "<redacted>"`},
		{"a pool_size in the spec", func(c *model.Cluster, _ *model.InstanceState) {
			c.Databases[len(c.Databases)-1].PoolSize = ptr(9)
		}, plan.ActionChange, "database.txt", "+ app = host=/var/run/postgresql pool_size=9"},
		{"a file right on disk, not in force", func(_ *model.Cluster, st *model.InstanceState) {
			st.Pooler.Databases[0].PoolSize = 5
		}, plan.ActionChange, "database.txt", "! database app pool_size: in force 5, in the file 7"},
		{"pgbouncer.ini at verbose 1", func(_ *model.Cluster, st *model.InstanceState) {
			st.Pooler.Config["verbose"] = "1"
		}, plan.ActionReport, "pgbouncer.ini setting verbose", ""},
		{"a pooler that is down", func(_ *model.Cluster, st *model.InstanceState) {
			st.Pooler, st.PoolerErr = nil, "connect: connection refused"
		}, plan.ActionReport, "pgbouncer", ""},
		{"no file can be read", func(_ *model.Cluster, st *model.InstanceState) {
			for _, f := range []*model.PoolerFile{&st.Pooler.Useropts, &st.Pooler.Database, &st.Pooler.HBA} {
				*f = model.PoolerFile{Path: f.Path, Err: "not read (no file reader for this host)"}
			}
			st.Pooler.Userlist = model.PoolerSecretFile{Path: st.Pooler.Userlist.Path, Err: "not read (no file reader for this host)"}
		}, plan.ActionReport, "pgbouncer files", ""},
		{"a file that cannot be read", func(_ *model.Cluster, st *model.InstanceState) {
			st.Pooler.HBA = model.PoolerFile{Path: "/etc/pgbouncer/pgb_hba.conf", Err: "permission denied"}
		}, plan.ActionReport, "pgb_hba.conf", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, live := poolerFixture(t)
			tc.edit(c, live["pg-x-1"])
			p := Cluster(c, live)
			chs := changesOf(p, plan.KindPgBouncer)
			if len(chs) != 1 || chs[0].Action != tc.action || chs[0].Object != tc.object || chs[0].Instance != "pg-x-1" {
				t.Fatalf("changes %+v, want one %s of %s", chs, tc.action, tc.object)
			}
			ch := chs[0]
			if ch.Kind.DriftClass() != model.DriftPgBouncer || !ch.Drift() {
				t.Errorf("drift class %s", ch.Kind.DriftClass())
			}
			if tc.diff != "" && (ch.Pooler == nil || !strings.Contains(strings.Join(ch.Pooler.Diff, "\n"), tc.diff)) {
				t.Errorf("diff lacks %q: %+v", tc.diff, ch.Pooler)
			}
			if tc.action == plan.ActionChange && (ch.Pooler == nil || ch.Pooler.Path != "/etc/pgbouncer/"+tc.object) {
				t.Errorf("a planned change without its file: %+v", ch.Pooler)
			}
			var out bytes.Buffer
			whole := &plan.Plan{Clusters: []plan.ClusterPlan{p}}
			if err := whole.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			if err := whole.WriteJSON(&out); err != nil {
				t.Fatal(err)
			}
			if err := whole.WriteMarkdown(&out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "SCRAM-SHA-256$") {
				t.Errorf("the plan shows a verifier:\n%s", out.String())
			}
			if tc.diff != "" && !strings.Contains(out.String(), tc.diff) {
				t.Errorf("the text plan does not show the diff line %q", tc.diff)
			}
		})
	}
}

// TestPoolerPlanIsAFunction: a verifier that must be hashed now (the
// role's password changes in the same plan) does not make two plans of
// the same inputs differ, and is never shown.
func TestPoolerPlanIsAFunction(t *testing.T) {
	c, live := poolerFixture(t)
	c.Roles = append(c.Roles, &model.Role{Name: "dbuser_new", State: model.StateCreate, Password: model.NewSecret("New.Password.1"), Pgbouncer: true})
	a, b := Cluster(c, live), Cluster(c, live)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same inputs give two plans")
	}
	chs := changesOf(a, plan.KindPgBouncer)
	if len(chs) != 1 || chs[0].Object != "userlist.txt" || !strings.Contains(strings.Join(chs[0].Pooler.Diff, "\n"), `+ "dbuser_new" "<redacted>"`) {
		t.Fatalf("changes %+v, want dbuser_new added to userlist.txt", chs)
	}
	roles := changesOf(a, plan.KindRole)
	if len(roles) == 0 || indexOf(a, roles[0]) > indexOf(a, chs[0]) {
		t.Error("userlist.txt is planned before the role it copies the verifier of")
	}
}

func indexOf(p plan.ClusterPlan, ch plan.Change) int {
	for i := range p.Changes {
		if p.Changes[i].Kind == ch.Kind && p.Changes[i].Object == ch.Object {
			return i
		}
	}
	return -1
}
