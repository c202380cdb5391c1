package apply_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func hbaChange(instance, content string) plan.Change {
	return plan.Change{Kind: plan.KindHBA, Action: plan.ActionChange, Object: "pg_hba.conf", Cluster: env.Name,
		Instance: instance, Intent: plan.Intent{HBA: &plan.HBAFile{Content: content}}}
}

func readHBA(t testing.TB, s *testenv.Server) string {
	t.Helper()
	b, err := os.ReadFile(s.HBAPath())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadTime(t testing.TB, s *testenv.Server) time.Time {
	t.Helper()
	var at time.Time
	queryRow(t, s, "postgres", "SELECT pg_conf_load_time()", nil, &at)
	return at
}

// unchanged fails the test if s's pg_hba.conf is not original or the
// server reloaded since before.
func unchanged(t testing.TB, s *testenv.Server, original string, before time.Time) {
	t.Helper()
	if readHBA(t, s) != original {
		t.Errorf("%s: pg_hba.conf changed", s.Name())
	}
	if !loadTime(t, s).Equal(before) {
		t.Errorf("%s: the configuration was reloaded", s.Name())
	}
}

// baseHBA keeps the dbsu's socket access, replication and the harness's
// password logins.
const baseHBA = `local   all          all                        trust
local   replication  all                        trust
host    replication  replicator  127.0.0.0/8    scram-sha-256
`

// TestHBALocalWriter (promise P9; docs/promises.md): a candidate is written on the primary and the
// replica, checked, reloaded and survived; applying it again writes
// nothing.
func TestHBALocalWriter(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	content := baseHBA + "host    all          all         10.0.0.0/8     scram-sha-256\n" +
		"host    all          all         127.0.0.0/8    scram-sha-256\n"
	before := map[string]time.Time{}
	mode := map[string]os.FileMode{}
	for _, s := range env.Servers() {
		before[s.Name()] = loadTime(t, s)
		st, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		mode[s.Name()] = st.Mode()
	}
	res := f.apply(hbaChange(primaryName(), content), hbaChange(replicaName(), content))
	wantStatus(t, res, plan.StatusApplied)
	inodes := map[string]uint64{}
	for _, s := range env.Servers() {
		if readHBA(t, s) != content {
			t.Errorf("%s: file differs from the candidate", s.Name())
		}
		st, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); st.Mode() != mode[s.Name()] || sys.Uid == 0 {
			t.Errorf("%s: mode %v uid %d, want the previous mode %v and owner", s.Name(), st.Mode(), sys.Uid, mode[s.Name()])
		}
		inodes[s.Name()] = st.Sys().(*syscall.Stat_t).Ino
		if !loadTime(t, s).After(before[s.Name()]) {
			t.Errorf("%s: not reloaded", s.Name())
		}
		var n int
		queryRow(t, s, "postgres", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.0.0.0'", nil, &n)
		if n != 1 {
			t.Errorf("%s: the new rule is not in pg_hba_file_rules", s.Name())
		}
	}
	if rows := f.changeLog(); len(rows) != 2 || rows[0].Instance != primaryName() || rows[1].Instance != replicaName() {
		t.Errorf("change log: %+v", rows)
	}

	res = f.apply(hbaChange(primaryName(), content), hbaChange(replicaName(), content))
	wantStatus(t, res, plan.StatusSkipped)
	for _, s := range env.Servers() {
		st, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		if st.Sys().(*syscall.Stat_t).Ino != inodes[s.Name()] {
			t.Errorf("%s: an identical file was rewritten", s.Name())
		}
	}
}

// TestHBARejectedCandidateIsRestored (case H04; docs/promises.md): a line our parser accepts but
// PostgreSQL rejects (silently, in PostgreSQL 15: a RADIUS server name
// that does not resolve) puts the previous bytes back, without a reload.
func TestHBARejectedCandidateIsRestored(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	content := original + "host all all 10.0.0.0/8 radius radiusservers=no-such-host.invalid radiussecrets=s3cret\n"
	res := f.apply(hbaChange(primaryName(), content))
	o := res.Outcomes[0]
	t.Log(o.Error)
	line := strings.Count(original, "\n") + 1
	if o.Status != plan.StatusFailed || !strings.Contains(o.Error, "line "+strconv.Itoa(line)) ||
		!strings.Contains(o.Error, "previous file restored, not reloaded") || strings.Contains(o.Error, "s3cret") {
		t.Fatalf("outcome %s %q", o.Status, o.Error)
	}
	unchanged(t, env.Primary, original, before)
}

// TestHBALockoutGuard (promise P10; cases H01, H02, H03; docs/promises.md): candidates that would shut out
// the dbsu's socket, the replica's replication or the reconciler itself
// are refused with the rule and the victim, and nothing is written; a
// +group rule lets the reconciler in through a transitive membership.
func TestHBALockoutGuard(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	rest := "host all all 127.0.0.0/8 scram-sha-256\n"
	cases := []struct {
		name, content string
		want          []string
	}{
		{"replication", strings.Replace(baseHBA, "replicator  127.0.0.0/8    scram-sha-256", "replicator  127.0.0.0/8    reject", 1) + rest,
			[]string{`line 3 "host replication replicator 127.0.0.0/8 reject" would reject replicator replication from 127.0.0.`, "(ssl)"}},
		{"own connection", "host all all 0.0.0.0/0 reject\n" + baseHBA + rest,
			[]string{`line 1 "host all all 0.0.0.0/0 reject" would reject dbuser_dba (the reconciler's own connection) to database postgres from 127.0.0.`}},
		{"dbsu socket", "local all postgres reject\n" + baseHBA + rest,
			[]string{`line 1 "local all postgres reject" would reject postgres (dbsu) to database postgres over the local socket`}},
		{"no line", "local all all peer\nlocal replication all peer\nhost replication all 127.0.0.0/8 scram-sha-256\n",
			[]string{"no line would allow dbuser_dba (the reconciler's own connection)"}},
		{"samehost", baseHBA + "host all all samehost scram-sha-256\n",
			[]string{`line 4 "host all all samehost scram-sha-256" decides for dbuser_dba`}},
		{"group without membership", baseHBA + "hostssl all +hba_group 127.0.0.0/8 scram-sha-256\nhost all all 0.0.0.0/0 reject\n",
			[]string{`line 5 "host all all 0.0.0.0/0 reject" would reject dbuser_dba`}},
	}
	exec(t, "postgres", "CREATE ROLE hba_group", "CREATE ROLE hba_mid")
	for _, c := range cases {
		res := f.apply(hbaChange(primaryName(), c.content))
		o := res.Outcomes[0]
		t.Logf("%s: %s", c.name, o.Error)
		if o.Status != plan.StatusRefused || !strings.Contains(o.Error, "nothing written") {
			t.Errorf("%s: %s %q, want refused", c.name, o.Status, o.Error)
		}
		for _, w := range c.want {
			if !strings.Contains(o.Error, w) {
				t.Errorf("%s: %q does not say %q", c.name, o.Error, w)
			}
		}
		unchanged(t, env.Primary, original, before)
	}

	exec(t, "postgres", "GRANT hba_group TO hba_mid", "GRANT hba_mid TO "+env.SuperUser)
	res := f.apply(hbaChange(primaryName(), cases[len(cases)-1].content))
	if o := res.Outcomes[0]; o.Status != plan.StatusApplied {
		t.Errorf("member of +hba_group through hba_mid: %s %q, want applied", o.Status, o.Error)
	}
}

// TestHBAReloadLockoutIsUndone (case H05; docs/promises.md): a rule the guard lets through (ident
// is not reject) but the login fails with is undone: previous file
// restored and reloaded, and the reconciler can log in again.
func TestHBAReloadLockoutIsUndone(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	original := readHBA(t, env.Primary)
	content := baseHBA + "host all dbuser_dba 127.0.0.0/8 ident\nhost all all 127.0.0.0/8 scram-sha-256\n"
	res := f.apply(hbaChange(primaryName(), content))
	o := res.Outcomes[0]
	t.Log(o.Error)
	if o.Status != plan.StatusFailed || !strings.Contains(o.Error, "reload locked out the reconciler") ||
		!strings.Contains(o.Error, "previous file restored and reloaded") {
		t.Fatalf("outcome %s %q", o.Status, o.Error)
	}
	if readHBA(t, env.Primary) != original {
		t.Error("previous file not restored")
	}
	var n int
	queryRow(t, env.Primary, "postgres", "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'ident'", nil, &n)
	if n != 0 {
		t.Error("the locking rule is still on disk")
	}
}

// TestHBARefusedByParserOrWithoutWriter: a line PostgreSQL would reject is
// refused before anything is written; without a writer, HBA changes are
// skipped with the reason.
func TestHBARefusedByParserOrWithoutWriter(t *testing.T) {
	f := newFixture(t)
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	res := f.apply(hbaChange(primaryName(), baseHBA))
	if o := res.Outcomes[0]; o.Status != plan.StatusSkipped || !strings.Contains(o.Error, "no HBA writer") {
		t.Errorf("without writer: %s %q", o.Status, o.Error)
	}
	f.opts.HBA = apply.NewLocalWriter()
	res = f.apply(hbaChange(primaryName(), baseHBA+"host all all 0.0.0.0/0 bogus\n"))
	if o := res.Outcomes[0]; o.Status != plan.StatusRefused || !strings.Contains(o.Error, `invalid authentication method "bogus"`) {
		t.Errorf("bad method: %s %q", o.Status, o.Error)
	}
	unchanged(t, env.Primary, original, before)
}

// TestHBAFileLeftUnloadedIsReloaded (case H07; docs/promises.md): a run that wrote the file but
// stopped before its reload leaves the candidate on disk, newer than the
// loaded configuration; the next run writes nothing but reloads.
func TestHBAFileLeftUnloadedIsReloaded(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	content := readHBA(t, env.Primary) + "host all all 10.3.0.0/16 scram-sha-256\n"
	if err := os.WriteFile(env.Primary.HBAPath(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	before := loadTime(t, env.Primary)
	res := f.apply(hbaChange(primaryName(), content))
	wantStatus(t, res, plan.StatusApplied)
	if !loadTime(t, env.Primary).After(before) {
		t.Error("not reloaded")
	}
}

// cancelOnWrite writes the file, then cancels the apply: a SIGTERM past
// the grace period arriving between the write and the reload.
type cancelOnWrite struct {
	apply.HBAWriter
	cancel context.CancelFunc
}

func (w cancelOnWrite) Write(ctx context.Context, in *model.Instance, path string, content []byte, info apply.FileInfo) error {
	err := w.HBAWriter.Write(ctx, in, path, content, info)
	w.cancel()
	return err
}

// TestHBACancelledAfterWrite: once a candidate is on disk, cancelling the
// apply does not stop it half-way: the file is still checked, reloaded
// and probed, so what is on disk is what the server has loaded.
func TestHBACancelledAfterWrite(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.opts.HBA = cancelOnWrite{HBAWriter: apply.NewLocalWriter(), cancel: cancel}
	before := loadTime(t, env.Primary)
	content := baseHBA + "host    all          all         10.9.0.0/16    scram-sha-256\n" +
		"host    all          all         127.0.0.0/8    scram-sha-256\n"
	res, err := f.applyTo(ctx, f.target(), plan.ClusterPlan{Name: env.Name, Changes: []plan.Change{hbaChange(primaryName(), content)}}, f.opts)
	if err != nil {
		t.Logf("apply: %v", err)
	}
	if res == nil || len(res.Outcomes) != 1 || res.Outcomes[0].Status != plan.StatusApplied {
		t.Fatalf("outcome after a cancel between write and reload: %+v", res)
	}
	if readHBA(t, env.Primary) != content || !loadTime(t, env.Primary).After(before) {
		t.Fatal("the candidate is on disk but not loaded")
	}
	var n int
	queryRow(t, env.Primary, "postgres", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.9.0.0'", nil, &n)
	if n != 1 {
		t.Error("the new rule is not in pg_hba_file_rules")
	}
}
