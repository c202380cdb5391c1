package diff

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

func ptr[T any](v T) *T { return &v }

var now = time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC)

// fixture is a one-instance cluster and its live state, in sync until a
// test changes one of them.
func fixture() (*model.Cluster, map[string]*model.InstanceState) {
	c := &model.Cluster{
		Name: "pg-x",
		Globals: model.Globals{DBSU: "postgres", ReplicationUser: "replicator", AdminUser: "dbuser_dba",
			MonitorUser: "dbuser_monitor", PasswordEncryption: "scram-sha-256"},
		Instances: []*model.Instance{{Cluster: "pg-x", Seq: 1, IP: "10.0.0.1", Role: model.RolePrimary, Port: 5432}},
		Roles: []*model.Role{
			{Name: "dbrole_readonly", State: model.StateCreate, Login: ptr(false), Comment: "ro", System: true},
			{Name: "dbuser_dba", State: model.StateCreate, Superuser: ptr(true), Comment: "admin", System: true},
			{Name: "app", State: model.StateCreate, ConnLimit: ptr(10), Comment: "business user app",
				MemberOf: []model.Membership{{Role: "dbrole_readonly"}}},
		},
	}
	st := &model.InstanceState{Cluster: "pg-x", Instance: "pg-x-1", Version: 150018, Now: now, AuthidReadable: true,
		Session: model.Session{User: "dbuser_dba", Database: "postgres", Superuser: true},
		Roles: []*model.LiveRole{
			{Name: "app", Login: true, Inherit: true, ConnLimit: 10, Comment: ptr("business user app"),
				MemberOf: []model.LiveMembership{{Role: "dbrole_readonly", Grantor: "postgres"}}},
			{Name: "dbrole_readonly", Inherit: true, ConnLimit: -1, Comment: ptr("ro")},
			{Name: "dbuser_dba", Login: true, Superuser: true, Inherit: true, ConnLimit: -1, Comment: ptr("admin")},
			{Name: "pg_monitor", Inherit: true, ConnLimit: -1},
		},
		Databases: []*model.LiveDatabase{{Name: "postgres", Owner: "postgres", AllowConn: true, ConnLimit: -1, Inside: true}},
		Settings:  map[string]*model.LiveSetting{},
	}
	return c, map[string]*model.InstanceState{"pg-x-1": st}
}

func changesOf(p plan.ClusterPlan, k plan.Kind) []plan.Change {
	var out []plan.Change
	for _, ch := range p.Changes {
		if ch.Kind == k {
			out = append(out, ch)
		}
	}
	return out
}

func sqlOf(ch plan.Change) string {
	var s []string
	for _, st := range ch.Statements {
		s = append(s, st.String())
	}
	return strings.Join(s, "; ")
}

func TestInSyncPlansNothing(t *testing.T) {
	c, live := fixture()
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("in-sync fixture plans %d changes: %+v", len(p.Changes), p.Changes)
	}
}

func TestRoleAttributesTriState(t *testing.T) {
	c, live := fixture()
	// nil attributes are no opinion: a live CREATEDB stays.
	live["pg-x-1"].Role("app").CreateDB = true
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("no-opinion attribute planned: %+v", p.Changes)
	}
	c.Role("app").CreateDB = ptr(false)
	c.Role("app").ConnLimit = ptr(20)
	p := Cluster(c, live)
	roles := changesOf(p, plan.KindRole)
	if len(roles) != 1 || sqlOf(roles[0]) != `ALTER ROLE "app" NOCREATEDB CONNECTION LIMIT 20` {
		t.Fatalf("got %+v", roles)
	}
}

func TestCreateRoleParentsFirst(t *testing.T) {
	c, live := fixture()
	// Declared child before parent: the parent is still created first.
	c.Roles = append(c.Roles,
		&model.Role{Name: "child", State: model.StateCreate, Comment: "c", MemberOf: []model.Membership{{Role: "parent"}}},
		&model.Role{Name: "parent", State: model.StateCreate, Login: ptr(false), Comment: "p"})
	p := Cluster(c, live)
	var order []string
	for _, ch := range p.Changes {
		order = append(order, string(ch.Kind)+":"+ch.Object)
	}
	want := "role:parent role:child membership:child in parent"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
	if s := sqlOf(p.Changes[1]); !strings.HasPrefix(s, `CREATE ROLE "child" LOGIN; COMMENT ON ROLE "child" IS 'c'`) {
		t.Fatalf("create child: %s", s)
	}
}

func TestExpireInDoesNotChurn(t *testing.T) {
	c, live := fixture()
	c.Role("app").ExpireIn = ptr(30)
	target := time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		live  *time.Time
		drift bool
	}{
		{&target, false},
		{ptr(target.Add(-23 * time.Hour)), false}, // yesterday's apply
		{ptr(target.Add(24 * time.Hour)), false},
		{ptr(target.Add(-25 * time.Hour)), true},
		{ptr(target.AddDate(0, 0, 5)), true},
		{nil, true}, // never expires
	} {
		live["pg-x-1"].Role("app").ValidUntil = tc.live
		p := Cluster(c, live)
		if drift := len(p.Changes) > 0; drift != tc.drift {
			t.Errorf("live %v: drift %v, want %v (%+v)", tc.live, drift, tc.drift, p.Changes)
		}
		if tc.drift && !strings.Contains(sqlOf(p.Changes[0]), "VALID UNTIL '2026-12-27 00:00:00+00'") {
			t.Errorf("statement %q", sqlOf(p.Changes[0]))
		}
	}
}

func TestExpireAt(t *testing.T) {
	c, live := fixture()
	c.Role("app").ExpireAt = "2027-06-30"
	live["pg-x-1"].Role("app").ValidUntil = ptr(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC))
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("in sync planned: %+v", p.Changes)
	}
	c.Role("app").ExpireAt = "infinity"
	p := Cluster(c, live)
	if len(p.Changes) != 1 || !strings.Contains(sqlOf(p.Changes[0]), "VALID UNTIL 'infinity'") {
		t.Fatalf("infinity: %+v", p.Changes)
	}
	live["pg-x-1"].Role("app").Infinity = true
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("infinity in sync planned: %+v", p.Changes)
	}
}

func TestPasswords(t *testing.T) {
	verifier, err := scram.Compute("correct horse", []byte("0123456789abcdef"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := scram.Compute("wrong", []byte("0123456789abcdef"), 4096)
	for _, tc := range []struct {
		name     string
		spec     string
		stored   string
		readable bool
		action   plan.Action
		before   string
	}{
		{"plaintext matches verifier", "correct horse", verifier, true, 0, ""},
		{"plaintext differs", "battery staple", verifier, true, plan.ActionChange, "differs"},
		{"verifier equal", verifier, verifier, true, 0, ""},
		{"verifier differs", other, verifier, true, plan.ActionChange, "differs"},
		{"md5 stored under scram", "correct horse", scram.MD5("correct horse", "app"), true, plan.ActionChange, "stored as md5"},
		{"no password", "correct horse", "", true, plan.ActionChange, "none"},
		{"unreadable is unknown", "correct horse", "", false, plan.ActionReport, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, live := fixture()
			c.Role("app").Password = model.NewSecret(tc.spec)
			live["pg-x-1"].Role("app").Password = model.NewSecret(tc.stored)
			live["pg-x-1"].AuthidReadable = tc.readable
			pw := changesOf(Cluster(c, live), plan.KindPassword)
			if tc.action == 0 {
				if len(pw) != 0 {
					t.Fatalf("in sync planned %+v", pw)
				}
				return
			}
			if len(pw) != 1 || pw[0].Action != tc.action || pw[0].Before != tc.before {
				t.Fatalf("got %+v", pw)
			}
			if text := planText(pw[0]); strings.Contains(text, tc.spec) {
				t.Fatalf("a password reached the plan's text: %s", text)
			}
		})
	}
}

// planText is everything a change shows: Before, After, Reason and every
// statement's SQL, raw and printed.
func planText(ch plan.Change) string {
	text := ch.Before + "\n" + ch.After + "\n" + ch.Reason
	for _, s := range ch.Statements {
		text += "\n" + s.SQL + "\n" + s.String()
	}
	return text
}

func TestLockoutGuards(t *testing.T) {
	c, live := fixture()
	c.Role("dbuser_dba").Superuser = ptr(false) // the reconciler's own role
	c.Role("dbuser_dba").Password = model.NewSecret("new")
	c.Roles = append(c.Roles, &model.Role{Name: "postgres", State: model.StateCreate, Login: ptr(false), Comment: "su"})
	live["pg-x-1"].Roles = append(live["pg-x-1"].Roles, &model.LiveRole{Name: "postgres", Login: true, Superuser: true, ConnLimit: -1, Comment: ptr("su")})
	p := Cluster(c, live)
	for _, ch := range p.Changes {
		if len(ch.Statements) > 0 && (ch.Object == "dbuser_dba" || ch.Object == "postgres") {
			t.Errorf("lockout change planned: %s: %s", ch.Object, sqlOf(ch))
		}
	}
	reports := 0
	for _, ch := range p.Changes {
		if ch.Action == plan.ActionReport {
			reports++
		}
	}
	if reports != 3 { // NOSUPERUSER and password for dbuser_dba, NOLOGIN for postgres
		t.Fatalf("%d reports, want 3: %+v", reports, p.Changes)
	}
}

// TestReplicationPassword (promise P10; docs/promises.md): a new password for the replication user
// is reported, not planned: the replicas' Patroni keeps the old one.
func TestReplicationPassword(t *testing.T) {
	c, live := fixture()
	verifier, _ := scram.Compute("old", []byte("0123456789abcdef"), 4096)
	c.Roles = append(c.Roles, &model.Role{Name: "replicator", State: model.StateCreate, Comment: "r", Password: model.NewSecret("new-secret")})
	live["pg-x-1"].Roles = append(live["pg-x-1"].Roles, &model.LiveRole{Name: "replicator", Login: true, Replication: true,
		ConnLimit: -1, Comment: ptr("r"), Password: model.NewSecret(verifier)})
	pw := changesOf(Cluster(c, live), plan.KindPassword)
	if len(pw) != 1 || pw[0].Action != plan.ActionReport || len(pw[0].Statements) != 0 ||
		!strings.Contains(pw[0].Reason, "replication user") || !strings.Contains(pw[0].Reason, "Patroni") {
		t.Fatalf("got %+v", pw)
	}
	if strings.Contains(planText(pw[0]), "new-secret") {
		t.Fatal("a password reached the plan's text")
	}
}

// TestSelfConnLimitZero (promise P10; docs/promises.md): CONNECTION LIMIT 0 on the role the
// reconciler logs in as locks it out unless it is a superuser.
func TestSelfConnLimitZero(t *testing.T) {
	c, live := fixture()
	c.Role("dbuser_dba").ConnLimit = ptr(0)
	roles := changesOf(Cluster(c, live), plan.KindRole)
	if len(roles) != 1 || sqlOf(roles[0]) != `ALTER ROLE "dbuser_dba" CONNECTION LIMIT 0` {
		t.Fatalf("superuser: got %+v", roles) // superusers are not held to a connection limit
	}
	c.Role("dbuser_dba").Superuser = nil
	live["pg-x-1"].Role("dbuser_dba").Superuser = false
	live["pg-x-1"].Session.Superuser = false
	c.Role("dbuser_dba").Comment = "changed" // planned as usual alongside the report
	p := Cluster(c, live)
	roles = changesOf(p, plan.KindRole)
	if len(roles) != 1 || roles[0].Action != plan.ActionReport || len(roles[0].Statements) != 0 ||
		!strings.Contains(roles[0].After, "CONNECTION LIMIT 0") {
		t.Fatalf("not a superuser: got %+v", roles)
	}
	if len(changesOf(p, plan.KindComment)) != 1 {
		t.Fatalf("the comment change was lost: %+v", p.Changes)
	}
	// Another role may be limited to 0.
	c.Role("app").ConnLimit = ptr(0)
	roles = changesOf(Cluster(c, live), plan.KindRole)
	if len(roles) != 2 || sqlOf(roles[1]) != `ALTER ROLE "app" CONNECTION LIMIT 0` {
		t.Fatalf("app: got %+v", roles)
	}
}

func TestDropRole(t *testing.T) {
	c, live := fixture()
	c.Roles = append(c.Roles, &model.Role{Name: "legacy", State: model.StateAbsent})
	st := live["pg-x-1"]
	st.Roles = append(st.Roles, &model.LiveRole{Name: "legacy", Login: true})
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "app", Owner: "app", AllowConn: true},
		&model.LiveDatabase{Name: "template0", Owner: "postgres"})
	drop := changesOf(Cluster(c, live), plan.KindRole)
	if len(drop) != 1 || drop[0].Action != plan.ActionRemove {
		t.Fatalf("got %+v", drop)
	}
	want := []string{`ALTER ROLE "legacy" NOLOGIN`, `SELECT pg_terminate_backend`, `REASSIGN OWNED BY "legacy" TO "postgres"`,
		`DROP OWNED BY "legacy"`, `REASSIGN OWNED BY "legacy" TO "postgres"`, `DROP OWNED BY "legacy"`, `DROP ROLE "legacy"`}
	for i, w := range want {
		if !strings.HasPrefix(drop[0].Statements[i].SQL, w) {
			t.Errorf("statement %d: %q, want %q", i, drop[0].Statements[i].SQL, w)
		}
	}
	if drop[0].Statements[4].Database != "app" {
		t.Errorf("REASSIGN must run in every database")
	}
	// A role owning a database is reported, not dropped.
	st.Databases[1].Owner = "legacy"
	drop = changesOf(Cluster(c, live), plan.KindRole)
	if drop[0].Action != plan.ActionReport || !strings.Contains(drop[0].Reason, "owns database(s) app") {
		t.Fatalf("got %+v", drop)
	}
}

// TestDropRoleAndDatabase (promise P8; docs/promises.md): the role's REASSIGN/DROP OWNED skip a
// database the same plan drops before it.
func TestDropRoleAndDatabase(t *testing.T) {
	c, live := fixture()
	c.Roles = append(c.Roles, &model.Role{Name: "legacy", State: model.StateAbsent})
	c.Databases = []*model.Database{{Name: "olddb", State: model.DatabaseAbsent}}
	st := live["pg-x-1"]
	st.Roles = append(st.Roles, &model.LiveRole{Name: "legacy", Login: true})
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "olddb", Owner: "postgres", AllowConn: true})
	p := Cluster(c, live)
	var order []string
	for _, ch := range p.Changes {
		order = append(order, string(ch.Kind)+":"+ch.Object)
	}
	if got := strings.Join(order, " "); got != "database:olddb role:legacy" {
		t.Fatalf("order %q", got)
	}
	for _, s := range p.Changes[1].Statements {
		if s.Database == "olddb" {
			t.Errorf("runs in the dropped database: %s", s.SQL)
		}
	}
	if s := sqlOf(p.Changes[1]); !strings.Contains(s, `REASSIGN OWNED BY "legacy"`) || !strings.HasSuffix(s, `DROP ROLE "legacy"`) {
		t.Errorf("the other databases lost the removal procedure: %s", s)
	}
}

func TestUnmanagedAndBuiltin(t *testing.T) {
	c, live := fixture()
	live["pg-x-1"].Roles = append(live["pg-x-1"].Roles, &model.LiveRole{Name: "bob", Login: true})
	p := Cluster(c, live)
	if len(p.Changes) != 1 || p.Changes[0].Kind != plan.KindUnmanaged || p.Changes[0].Action != plan.ActionNote || len(p.Changes[0].Statements) != 0 {
		t.Fatalf("got %+v", p.Changes)
	}
	pp := &plan.Plan{Clusters: []plan.ClusterPlan{p}}
	if pp.HasDrift() {
		t.Fatal("an unmanaged role is not drift")
	}
}

func TestMembershipsAdditive(t *testing.T) {
	c, live := fixture()
	live["pg-x-1"].Role("app").MemberOf = append(live["pg-x-1"].Role("app").MemberOf, model.LiveMembership{Role: "pg_monitor"})
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("an undeclared membership was touched: %+v", p.Changes)
	}
	c.Role("app").MemberOf = append(c.Role("app").MemberOf, model.Membership{Role: "pg_monitor", Revoke: true},
		model.Membership{Role: "dbuser_dba", Admin: model.Yes})
	p := Cluster(c, live)
	m := changesOf(p, plan.KindMembership)
	if len(m) != 2 || sqlOf(m[0]) != `GRANT "dbuser_dba" TO "app" WITH ADMIN OPTION` || sqlOf(m[1]) != `REVOKE "pg_monitor" FROM "app"` {
		t.Fatalf("got %+v", m)
	}
	if m[1].Action != plan.ActionRemove {
		t.Fatal("revokes are removals")
	}
}

func TestParameters(t *testing.T) {
	c, live := fixture()
	in := c.Instances[0]
	sb := &model.LiveSetting{Name: "shared_buffers", Setting: "16384", Unit: "8kB", Context: "postmaster", VarType: "integer", MinVal: "16", MaxVal: "1073741823"}
	lmd := &model.LiveSetting{Name: "log_min_duration_statement", Setting: "100", Unit: "ms", Context: "superuser", VarType: "integer", MinVal: "-1", MaxVal: "2147483647"}
	live["pg-x-1"].Settings = map[string]*model.LiveSetting{"shared_buffers": sb, "log_min_duration_statement": lmd}

	in.Parameters = []model.Parameter{{Name: "log_min_duration_statement", Value: "100ms"}, {Name: "shared_buffers", Value: "128MB"}}
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("unit-equal values planned: %+v", p.Changes)
	}
	in.Parameters = []model.Parameter{{Name: "shared_buffers", Value: "256MB"}}
	p := Cluster(c, live)
	if len(p.Changes) != 1 || !p.Changes[0].RequiresRestart || sqlOf(p.Changes[0]) != `ALTER SYSTEM SET "shared_buffers" = '256MB'` || !p.Changes[0].Statements[0].NoTx {
		t.Fatalf("got %+v", p.Changes)
	}
	// Written, pending restart: reported, not rewritten.
	sb.FileValue, sb.PendingRestart = ptr("256MB"), true
	p = Cluster(c, live)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.ActionReport || len(p.Changes[0].Statements) != 0 {
		t.Fatalf("pending restart: %+v", p.Changes)
	}
	// An invalid value is never planned.
	sb.FileValue, sb.PendingRestart = nil, false
	in.Parameters = []model.Parameter{{Name: "shared_buffers", Value: "1 parsec"}, {Name: "no_such_param", Value: "1"}}
	p = Cluster(c, live)
	if len(p.Changes) != 2 || p.Changes[0].Action != plan.ActionReport || p.Changes[1].Action != plan.ActionReport {
		t.Fatalf("invalid values: %+v", p.Changes)
	}
}

// TestParameterServerValue: a server value inspection could not tell is
// reported, never planned nor taken as in sync (unless a reload settles
// it: then it is written again); a value on the
// postmaster's command line, which ALTER SYSTEM cannot override, is
// reported when it differs; names match in any case.
func TestParameterServerValue(t *testing.T) {
	c, live := fixture()
	in := c.Instances[0]
	st := &model.LiveSetting{Name: "statement_timeout", Unit: "ms", Context: "user", VarType: "integer", MinVal: "0", MaxVal: "2147483647",
		SessionSetting: "300000", SessionSource: "client", Unknown: "pg_file_settings is not readable by dbuser_monitor"}
	mc := &model.LiveSetting{Name: "max_connections", Setting: "500", Source: "command line", Context: "postmaster", VarType: "integer",
		MinVal: "1", MaxVal: "262143", FileValue: ptr("100"), FileApplied: true}
	ds := &model.LiveSetting{Name: "DateStyle", Setting: "ISO, MDY", Source: "configuration file", Context: "user", VarType: "string"}
	live["pg-x-1"].Settings = map[string]*model.LiveSetting{"statement_timeout": st, "max_connections": mc, "DateStyle": ds}

	in.Parameters = []model.Parameter{{Name: "statement_timeout", Value: "5min"}, {Name: "max_connections", Value: "500"}, {Name: "datestyle", Value: "ISO, MDY"}}
	p := Cluster(c, live)
	if len(p.Changes) != 1 {
		t.Fatalf("want one change (the unknown value), got %+v", p.Changes)
	}
	if ch := p.Changes[0]; ch.Object != "statement_timeout" || ch.Action != plan.ActionReport || len(ch.Statements) != 0 ||
		!strings.Contains(ch.Reason, "not readable by dbuser_monitor") {
		t.Fatalf("an unknown server value: %+v", ch)
	}
	// Unknown only because the files are newer than the last reload (a
	// lost reload): written again, and reloaded.
	st.Unloaded = true
	if p = Cluster(c, live); len(p.Changes) != 1 || p.Changes[0].Action != plan.ActionChange || p.Changes[0].Before != "unknown" ||
		sqlOf(p.Changes[0]) != `ALTER SYSTEM SET "statement_timeout" = '5min'` {
		t.Fatalf("files not loaded: %+v", p.Changes)
	}
	st.Unknown, st.Unloaded, st.Setting, st.Source = "", false, "0", "default"
	in.Parameters = []model.Parameter{{Name: "statement_timeout", Value: "5min"}, {Name: "max_connections", Value: "200"}}
	p = Cluster(c, live)
	if len(p.Changes) != 2 || p.Changes[0].Action != plan.ActionChange || p.Changes[0].Before != "0ms" ||
		p.Changes[1].Action != plan.ActionReport || !strings.Contains(p.Changes[1].Reason, "command line") || len(p.Changes[1].Statements) != 0 {
		t.Fatalf("got %+v", p.Changes)
	}
}

// TestSecretParameter (promise P12; docs/promises.md): a parameter value that may hold a credential
// reaches the executor, but no form of the plan shows it.
func TestSecretParameter(t *testing.T) {
	c, live := fixture()
	in := c.Instances[0]
	pc := &model.LiveSetting{Name: "primary_conninfo", Setting: "host=10.0.0.2 user=replicator password=old-secret",
		Context: "sighup", VarType: "string"}
	live["pg-x-1"].Settings = map[string]*model.LiveSetting{"primary_conninfo": pc}
	value := "host=10.0.0.3 user=replicator password=new-secret"
	in.Parameters = []model.Parameter{{Name: "primary_conninfo", Value: value}, {Name: "ssl_passphrase_command", Value: "echo unknown-secret"}}
	p := Cluster(c, live)
	if len(p.Changes) != 2 || p.Changes[0].Action != plan.ActionChange || p.Changes[1].Action != plan.ActionReport {
		t.Fatalf("got %+v", p.Changes)
	}
	ch := p.Changes[0]
	if ch.Before != model.Redacted || ch.After != model.Redacted || ch.Parameter.Value.Reveal() != value ||
		len(ch.Statements) != 1 || ch.Statements[0].Password.Reveal() != value || !ch.Statements[0].NoTx ||
		ch.Statements[0].String() != `ALTER SYSTEM SET "primary_conninfo" = '<redacted>'` {
		t.Fatalf("got %+v", ch)
	}
	pp := &plan.Plan{Clusters: []plan.ClusterPlan{p}}
	var text, md, js strings.Builder
	if err := errors.Join(pp.WriteText(&text), pp.WriteMarkdown(&md), pp.WriteJSON(&js)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "primary_conninfo") {
		t.Fatal("the change is not in the text plan: the leak check would prove nothing")
	}
	for where, out := range map[string]string{"text": text.String(), "markdown": md.String(), "json": js.String(),
		"change": planText(ch), "report": planText(p.Changes[1]) + fmt.Sprintf("%+v %#v", p, p)} {
		if strings.Contains(out, "secret") {
			t.Errorf("the %s plan shows a credential:\n%s", where, out)
		}
	}

	// Another value written, pending a restart: still not shown. An empty
	// value holds no secret.
	pc.Context, pc.FileValue, pc.PendingRestart = "postmaster", ptr("password=pending-secret"), true
	in.Parameters = []model.Parameter{{Name: "primary_conninfo", Value: value}}
	if p := Cluster(c, live); len(p.Changes) != 1 || p.Changes[0].Before != model.Redacted+" (written, pending restart)" ||
		strings.Contains(planText(p.Changes[0]), "secret") {
		t.Fatalf("pending: %+v", p.Changes)
	}
	pc.Context, pc.FileValue, pc.PendingRestart = "sighup", nil, false
	in.Parameters = []model.Parameter{{Name: "primary_conninfo", Value: ""}}
	if p := Cluster(c, live); len(p.Changes) != 1 || sqlOf(p.Changes[0]) != `ALTER SYSTEM SET "primary_conninfo" = ''` {
		t.Fatalf("empty: %+v", p.Changes)
	}
}

func TestRevokeConnect(t *testing.T) {
	c, live := fixture()
	c.Roles = append(c.Roles, &model.Role{Name: "replicator", State: model.StateCreate, Comment: "r"},
		&model.Role{Name: "dbuser_monitor", State: model.StateCreate, Comment: "m"})
	st := live["pg-x-1"]
	st.Roles = append(st.Roles, &model.LiveRole{Name: "replicator", Login: true, ConnLimit: -1, Comment: ptr("r")},
		&model.LiveRole{Name: "dbuser_monitor", Login: true, ConnLimit: -1, Comment: ptr("m")})
	c.Databases = []*model.Database{{Name: "app", State: model.DatabaseCreate, Owner: "app", Comment: "business database app", RevokeConn: ptr(true)}}
	st.Databases = append(st.Databases, &model.LiveDatabase{Name: "app", Owner: "app", AllowConn: true, ConnLimit: -1,
		Comment: ptr("business database app"), Inside: true,
		ACL: []string{"=T/app", "app=CTc/app", "replicator=c/app", "dbuser_monitor=c/app", "dbuser_dba=c*/app"}})
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("revoked CONNECT in sync but planned: %+v", p.Changes)
	}
	st.Database("app").ACL = nil
	p := Cluster(c, live)
	if len(p.Changes) != 1 || !strings.HasPrefix(sqlOf(p.Changes[0]), `REVOKE CONNECT ON DATABASE "app" FROM PUBLIC`) {
		t.Fatalf("got %+v", p.Changes)
	}
}

func TestDefaultPrivilegeGrantOption(t *testing.T) {
	c, live := fixture()
	c.DefaultPrivileges = []string{"GRANT SELECT ON TABLES TO dbrole_readonly WITH GRANT OPTION"}
	st := live["pg-x-1"]
	st.Roles = append(st.Roles, &model.LiveRole{Name: "postgres", Login: true, Superuser: true})
	c.Globals.DBSU, c.Globals.AdminUser = "postgres", "dbuser_dba"
	row := func(owner string, grantable bool) model.DefaultACL {
		return model.DefaultACL{Owner: owner, ObjectType: "TABLES", Grantee: "dbrole_readonly", Privilege: "SELECT", Grantable: grantable}
	}
	st.Database("postgres").DefaultACL = []model.DefaultACL{row("postgres", true), row("dbuser_dba", false)}
	p := Cluster(c, live)
	dp := changesOf(p, plan.KindDefaultPrivilege)
	if len(dp) != 1 || dp[0].Object != "postgres: FOR ROLE dbuser_dba" ||
		sqlOf(dp[0]) != `ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_dba" GRANT SELECT ON TABLES TO "dbrole_readonly" WITH GRANT OPTION` {
		t.Fatalf("got %+v", dp)
	}
}
