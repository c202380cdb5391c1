package reconcile

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
	"github.com/pgreconciler/pgreconciler/internal/spec"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
	"github.com/pgreconciler/pgreconciler/internal/testenv/sshd"
)

// poolerSuite is the shared cluster with Debian's PgBouncer beside its
// primary, configured as Pigsty configures it, reconciled with the
// poolers managed (Options.PgBouncer).
type poolerSuite struct {
	b      *bouncer.Bouncer
	port   int
	appPw  string
	logs   bytes.Buffer // every log line of every reconcile
	output bytes.Buffer // every plan, in the three formats
}

// spec is the fleet: the primary's pooler on the test's port, with
// database.txt pointing at the primary's address; the replica has none.
func (s *poolerSuite) spec(t *testing.T, withApp bool, poolSize int, pgbRules string) *model.Cluster {
	t.Helper()
	users := ""
	if withApp {
		users = fmt.Sprintf(`{name: "dbuser_app", password: %q, pgbouncer: true, pool_mode: "transaction", roles: ["dbrole_readwrite"]},`, s.appPw)
	}
	vars := fmt.Sprintf(`pg_admin_password: %q
		pg_monitor_password: %q
		pg_users: [%s]
		pg_databases: [{name: "app", pool_size: %d}]
		pgb_hba_rules: [%s]`, cluster.SuperPassword, cluster.MonitorPassword, users, poolSize, pgbRules)
	text := cluster.PigstySpec(vars)
	text = strings.Replace(text, `pg_role: "primary"}`, fmt.Sprintf(`pg_role: "primary", pgbouncer_port: %d, pg_localhost: %q}`, s.port, cluster.Primary.Addr), 1)
	text = strings.Replace(text, `pg_role: "replica"}`, `pg_role: "replica", pgbouncer_enabled: false}`, 1)
	return loadSpec(t, text)
}

// reconcile runs one reconcile with the poolers managed, and keeps its
// plan (text, markdown, JSON) and log lines for the secrets check.
func (s *poolerSuite) reconcile(t *testing.T, c *model.Cluster, mode Mode) Outcome {
	t.Helper()
	log := slog.New(slog.NewTextHandler(&s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o, err := Cluster(context.Background(), Target{Cluster: c, Dialer: dialer()},
		Options{Mode: mode, HBA: apply.NewLocalWriter(), PgBouncer: apply.NewLocalWriter(), Provenance: testProvenance, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range []plan.ClusterPlan{o.Plan, o.Left} {
		p := &plan.Plan{Clusters: []plan.ClusterPlan{cp}}
		for _, w := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return p.WriteText(b) },
			func(b *bytes.Buffer) error { return p.WriteMarkdown(b) },
			func(b *bytes.Buffer) error { return p.WriteJSON(b) },
		} {
			if err := w(&s.output); err != nil {
				t.Fatal(err)
			}
		}
	}
	if o.Result != nil {
		for _, r := range o.Result.Outcomes {
			s.output.WriteString(r.Error + "\n")
		}
	}
	s.output.WriteString(o.Message + "\n")
	return o
}

// converge applies c and fails unless it succeeded and left no
// PgBouncer drift.
func (s *poolerSuite) converge(t *testing.T, c *model.Cluster) Outcome {
	t.Helper()
	o := s.reconcile(t, c, ModeApply)
	if o.Verdict != plan.VerdictSuccess {
		t.Fatalf("apply: %s: %s", o.Verdict, o.Message)
	}
	if left := poolerDrift(o.Left); len(left) > 0 {
		t.Fatalf("PgBouncer drift left after one apply:%s", describe(left))
	}
	return o
}

func poolerDrift(cp plan.ClusterPlan) []plan.Change {
	var out []plan.Change
	for _, ch := range cp.Changes {
		if ch.Kind == plan.KindPgBouncer && ch.Drift() {
			out = append(out, ch)
		}
	}
	return out
}

// login logs in through the pooler to database app and runs a query.
func (s *poolerSuite) login(ctx context.Context, user, password string) error {
	conn, err := pgx.Connect(ctx, s.b.ConnString(user, password, "app", "disable"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var who string
	if err := conn.QueryRow(ctx, "SELECT current_user", pgx.QueryExecModeSimpleProtocol).Scan(&who); err != nil {
		return err
	}
	if who != user {
		return fmt.Errorf("logged in as %s, want %s", who, user)
	}
	return nil
}

func (s *poolerSuite) poolSize(t *testing.T, db string) int {
	t.Helper()
	conn, err := s.b.Admin(t.Context(), cluster.SuperUser, cluster.SuperPassword, "disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SHOW DATABASES", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := rows.RawValues()
		var name, size string
		for i, f := range rows.FieldDescriptions() {
			switch f.Name {
			case "name":
				name = string(vals[i])
			case "pool_size":
				size = string(vals[i])
			}
		}
		if name == db {
			n, _ := strconv.Atoi(size)
			return n
		}
	}
	t.Fatalf("database %s is not in SHOW DATABASES", db)
	return 0
}

func (s *poolerSuite) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range pgbouncer.AllFiles {
		b, err := s.b.ReadFile(f.Base())
		if err != nil {
			t.Fatal(err)
		}
		out[f.Base()] = string(b)
	}
	return out
}

// TestPooler reconciles the PgBouncer beside the primary end to end: the
// steps share the pooler and run in order.
func TestPooler(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PgBouncer")
	}
	cluster.ResetForReconciler(t)
	s := &poolerSuite{appPw: "App." + rand.Text()}
	var err error
	if s.port, err = testenv.FreePort(cluster.Primary.Addr); err != nil {
		t.Fatal(err)
	}
	base := s.spec(t, false, 7, "")
	applyAll(t, base) // PostgreSQL first: the Pigsty roles and their passwords
	// The pooler as Pigsty's pgsql.yml leaves it for this spec: the
	// admin and the monitor in userlist.txt, Pigsty's pgb_hba.conf.
	stored := map[string]model.Secret{}
	_, live := planOf(t, base)
	for _, r := range live["pg-e2e-1"].Roles {
		stored[r.Name] = r.Password
	}
	f, err := pgbouncer.Render(base, base.Primary(), pgbouncer.Inputs{Stored: stored, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	userlist, err := f.Userlist.Text()
	if err != nil {
		t.Fatal(err)
	}
	s.b = bouncer.Start(t, cluster, cluster.Primary, bouncer.Options{Port: s.port, LogConnections: true, Files: map[string][]byte{
		"userlist.txt": []byte(userlist.Reveal()), "useropts.txt": []byte(f.Useropts), "database.txt": []byte(f.Database), "pgb_hba.conf": []byte(f.HBA.Text)}})

	t.Run("a pooler in sync is no drift", func(t *testing.T) {
		o := s.reconcile(t, base, ModePlan)
		if d := poolerDrift(o.Plan); len(d) > 0 {
			t.Fatalf("drift on a pooler written as rendered:%s", describe(d))
		}
		if st := o.Live["pg-e2e-1"]; st == nil || st.Pooler == nil {
			t.Fatalf("the pooler was not read: %+v", st)
		}
	})

	withApp := s.spec(t, true, 7, "")
	t.Run("a user added to the spec logs in through the pooler after one reconcile", func(t *testing.T) {
		if err := s.login(t.Context(), "dbuser_app", s.appPw); err == nil {
			t.Fatal("dbuser_app logs in before it is in the spec")
		}
		p := s.reconcile(t, withApp, ModePlan)
		var objects []string
		for _, ch := range poolerDrift(p.Plan) {
			objects = append(objects, ch.Object)
		}
		if strings.Join(objects, ",") != "userlist.txt,useropts.txt" {
			t.Errorf("PgBouncer changes %v, want userlist.txt and useropts.txt", objects)
		}
		var text bytes.Buffer
		if err := (&plan.Plan{Clusters: []plan.ClusterPlan{p.Plan}}).WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), `+ "dbuser_app" "<redacted>"`) || !strings.Contains(text.String(), "~ pgbouncer userlist.txt") {
			t.Errorf("the text plan does not show userlist.txt's diff:\n%s", text.String())
		}
		o := s.converge(t, withApp)
		if !applied(o, plan.KindPgBouncer, "userlist.txt") {
			t.Errorf("userlist.txt not applied: %+v", o.Result)
		}
		if err := s.login(t.Context(), "dbuser_app", s.appPw); err != nil {
			t.Fatalf("dbuser_app through the pooler after one reconcile: %v", err)
		}
		if err := s.login(t.Context(), "dbuser_app", "wrong"); err == nil {
			t.Error("a wrong password gets through the pooler")
		}
		info, err := s.b.ReadFile("userlist.txt")
		if err != nil || !strings.Contains(string(info), `"dbuser_app" "SCRAM-SHA-256$`) {
			t.Errorf("userlist.txt: %v", err)
		}
	})

	t.Run("pool_size changes the pool", func(t *testing.T) {
		if n := s.poolSize(t, "app"); n != 7 {
			t.Fatalf("pool_size before: %d, want 7", n)
		}
		s.converge(t, s.spec(t, true, 9, ""))
		if n := s.poolSize(t, "app"); n != 9 {
			t.Errorf("SHOW DATABASES app pool_size after one reconcile: %d, want 9", n)
		}
	})

	deny := `{user: "dbuser_app", db: "all", addr: "world", auth: "deny", title: "no app through the pooler", order: 50}`
	t.Run("a pgb_hba_rules rule takes effect", func(t *testing.T) {
		s.converge(t, s.spec(t, true, 9, deny))
		if err := s.login(t.Context(), "dbuser_app", s.appPw); err == nil {
			t.Error("dbuser_app still logs in through the pooler after a deny rule")
		}
		s.converge(t, s.spec(t, true, 9, ""))
		if err := s.login(t.Context(), "dbuser_app", s.appPw); err != nil {
			t.Errorf("dbuser_app after the rule is removed: %v", err)
		}
	})

	current := s.spec(t, true, 9, "")
	t.Run("a hand-edited userlist.txt is drift, and apply heals it", func(t *testing.T) {
		good := s.files(t)["userlist.txt"]
		v, err := scram.New("Intruder.Pw", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.b.WriteFile("userlist.txt", []byte(good+`"intruder" "`+v+`"`+"\n")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(s.b.Path("userlist.txt"), 0o644); err != nil { // and readable by all, by hand
			t.Fatal(err)
		}
		p := s.reconcile(t, current, ModePlan)
		d := poolerDrift(p.Plan)
		if len(d) != 1 || d[0].Object != "userlist.txt" || d[0].Pooler == nil ||
			!strings.Contains(strings.Join(d[0].Pooler.Diff, "\n"), `- "intruder" "<redacted>"`) {
			t.Fatalf("plan: %s, want userlist.txt with the intruder's line", describe(d))
		}
		edited := s.files(t)["userlist.txt"]
		if o := s.reconcile(t, current, ModeDryRun); o.Verdict != plan.VerdictSuccess || s.files(t)["userlist.txt"] != edited {
			t.Fatalf("dry run: %s %s; it must write nothing", o.Verdict, o.Message)
		}
		s.converge(t, current)
		if got := s.files(t)["userlist.txt"]; got != good {
			t.Errorf("userlist.txt after apply:\n%s\nwant:\n%s", redactUserlist(got), redactUserlist(good))
		}
		if fi, err := os.Stat(s.b.Path("userlist.txt")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("userlist.txt after apply: %v %v, want mode 0600", fi.Mode(), err)
		}
	})

	t.Run("the files are written over SSH, host keys pinned", func(t *testing.T) {
		srv := sshd.Start(t, sshd.Options{})
		w, err := apply.NewSSHWriter(apply.SSHConfig{User: srv.User, KeyFile: srv.ClientKeyFile, KnownHostsFile: srv.KnownHostsFile,
			Addr: func(*model.Instance) string { return srv.Addr }})
		if err != nil {
			t.Fatal(err)
		}
		want := s.files(t)["database.txt"]
		if err := s.b.WriteFile("database.txt", []byte("# emptied by hand\n")); err != nil {
			t.Fatal(err)
		}
		o, err := Cluster(context.Background(), Target{Cluster: current, Dialer: dialer()},
			Options{Mode: ModeApply, HBA: w, PgBouncer: w, Provenance: testProvenance})
		if err != nil || o.Verdict != plan.VerdictSuccess || !applied(o, plan.KindPgBouncer, "database.txt") {
			t.Fatalf("apply over SSH: %v %s: %s", err, o.Verdict, o.Message)
		}
		if got := s.files(t)["database.txt"]; got != want {
			t.Errorf("database.txt written over SSH:\n%s\nwant:\n%s", got, want)
		}
		if left, _ := filepath.Glob(filepath.Join(s.b.Dir, ".*.pgreconciler-*")); len(left) > 0 {
			t.Errorf("temporary files left beside the pooler's files: %v", left)
		}
	})

	t.Run("a spec that would lock out the admin is refused; the files stay", func(t *testing.T) {
		lock := `{user: "${admin}", db: "all", addr: "world", auth: "deny", title: "no admin", order: 10}`
		res := loadResult(t, cluster.PigstySpec(`pgb_hba_rules: [`+lock+`]`))
		if res.Err() == nil {
			t.Fatal("the spec validation accepts a rule that locks the admin out of the pooler")
		}
		// Past validation (a spec from another version): the apply's guard.
		c := s.spec(t, true, 9, "")
		ord := 10
		c.Primary().Pooler.HBA = append(c.Primary().Pooler.HBA,
			model.HBARule{User: "${admin}", DB: "all", Addr: "world", Auth: "deny", Title: "no admin", Role: "default", Order: &ord})
		before := s.files(t)
		o := s.reconcile(t, c, ModeApply)
		if o.Verdict != plan.VerdictRefused || !strings.Contains(o.Message, "pooler lockout guard") {
			t.Fatalf("verdict %s: %s, want refused by the pooler lockout guard", o.Verdict, o.Message)
		}
		if after := s.files(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Error("the files changed although the change was refused")
		}
		if a, err := s.b.Admin(t.Context(), cluster.SuperUser, cluster.SuperPassword, "disable"); err != nil {
			t.Errorf("the admin is locked out: %v", err)
		} else {
			a.Close(t.Context())
		}
	})

	t.Run("a file right on disk that the pooler has not loaded is reloaded", func(t *testing.T) {
		good := s.files(t)["database.txt"]
		if err := s.b.WriteFile("database.txt", []byte(strings.Replace(good, "pool_size=9", "pool_size=5", 1))); err != nil {
			t.Fatal(err)
		}
		conn, err := s.b.Admin(t.Context(), cluster.SuperUser, cluster.SuperPassword, "disable")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), "RELOAD", pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatal(err)
		}
		conn.Close(t.Context())
		if err := s.b.WriteFile("database.txt", []byte(good)); err != nil { // right again, not reloaded
			t.Fatal(err)
		}
		d := poolerDrift(s.reconcile(t, current, ModePlan).Plan)
		if len(d) != 1 || d[0].Object != "database.txt" || d[0].Pooler == nil || !d[0].Pooler.Reload {
			t.Fatalf("plan:%s, want a reload of database.txt", describe(d))
		}
		s.converge(t, current)
		if n := s.poolSize(t, "app"); n != 9 {
			t.Errorf("pool_size after the reload: %d, want 9", n)
		}
	})

	t.Run("a reload that locks the monitor out is rolled back", func(t *testing.T) {
		// The spec's guard keeps the monitor's way in over the local
		// socket (Pigsty's exporter); this rule shuts its intranet way,
		// the one the reconciler can test from here: the apply sees it
		// after the reload and puts the previous files back.
		c := s.spec(t, true, 9, `{user: "${monitor}", db: "pgbouncer", addr: "127.0.0.0/8", auth: "deny", title: "monitor by socket only", order: 10}`)
		before := s.files(t)
		o := s.reconcile(t, c, ModeApply)
		if o.Verdict != plan.VerdictFailure || !strings.Contains(o.Message, "locked out the monitor user") ||
			!strings.Contains(o.Message, "previous files restored and reloaded") {
			t.Fatalf("verdict %s: %s, want a failure, rolled back", o.Verdict, o.Message)
		}
		if after := s.files(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Error("the previous files were not restored")
		}
		m, err := s.b.Admin(t.Context(), cluster.MonitorUser, cluster.MonitorPassword, "disable")
		if err != nil {
			t.Fatalf("the monitor is still locked out after the rollback: %v", err)
		}
		m.Close(t.Context())
	})

	t.Run("a pooler that is down is reported, PostgreSQL is still reconciled", func(t *testing.T) {
		if err := s.b.Stop(); err != nil {
			t.Fatal(err)
		}
		cluster.Primary.MustLocal(t, "postgres", `REVOKE dbrole_readwrite FROM dbuser_app`)
		o := s.reconcile(t, current, ModeApply)
		if o.Verdict != plan.VerdictSuccess {
			t.Errorf("verdict %s: %s; a pooler that is down must not fail PostgreSQL's reconcile", o.Verdict, o.Message)
		}
		d := poolerDrift(o.Plan)
		if len(d) != 1 || d[0].Action != plan.ActionReport || !strings.Contains(d[0].Reason, "could not be read") {
			t.Errorf("plan: %s, want one report of the pooler", describe(d))
		}
		if !applied(o, plan.KindMembership, "dbuser_app in dbrole_readwrite") {
			t.Errorf("the role's drift was not applied while the pooler is down: %+v %s", o.Result, describe(o.Plan.Changes))
		}
	})

	t.Run("no verifier in plans, logs, messages or the pooler's log", func(t *testing.T) {
		secrets := []string{s.appPw, cluster.SuperPassword, cluster.MonitorPassword}
		for _, r := range stored {
			if !r.IsZero() {
				secrets = append(secrets, r.Reveal())
			}
		}
		for what, text := range map[string]string{"plans and messages": s.output.String(), "log lines": s.logs.String(), "the pooler's log": s.b.Log()} {
			if strings.Contains(text, "SCRAM-SHA-256$") {
				t.Errorf("%s hold a SCRAM verifier", what)
			}
			for _, sec := range secrets {
				if strings.Contains(text, sec) {
					t.Errorf("%s hold a secret", what)
				}
			}
		}
		if !strings.Contains(s.b.Log(), "RELOAD command issued") || !strings.Contains(s.logs.String(), "kind=pgbouncer") {
			t.Error("nothing was checked: no RELOAD in the pooler's log, or no PgBouncer change in the log lines")
		}
	})
}

func applied(o Outcome, kind plan.Kind, object string) bool {
	if o.Result == nil {
		return false
	}
	for _, r := range o.Result.Outcomes {
		if r.Change.Kind == kind && r.Change.Object == object && r.Status == plan.StatusApplied {
			return true
		}
	}
	return false
}

func redactUserlist(s string) string {
	entries, _ := pgbouncer.ParseUserlist(model.NewSecret(s))
	u := pgbouncer.UserlistFile{Entries: entries}
	return u.Redacted()
}

// loadResult validates a spec text and returns the result, problems and all.
func loadResult(t *testing.T, src string) *spec.Result {
	t.Helper()
	l, err := spec.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(src)}}, spec.Options{Profile: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
