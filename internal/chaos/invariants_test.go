package chaos

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/source"
)

// The invariants every fault run checks, after the fault and again after
// the run that converges.

// liveObjectsSQL lists what exists of the spec's objects: roles,
// passwords, memberships (each written in one transaction with its
// change-log row, in the postgres database) and the database (CREATE
// DATABASE cannot run in a transaction: its row is written right after
// the step, so a kill between the two leaves it live and unlogged, a gap
// docs/faults.md names).
const liveObjectsSQL = `
SELECT kind || ' ' || object FROM (
	SELECT 'role' AS kind, rolname AS object FROM pg_authid WHERE rolname LIKE 'chaos\_u%'
	UNION ALL SELECT 'password', rolname FROM pg_authid WHERE rolname LIKE 'chaos\_u%' AND rolpassword IS NOT NULL
	UNION ALL SELECT 'membership', m.rolname || ' in dbrole_readonly'
		FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member JOIN pg_roles g ON g.oid = a.roleid
		WHERE g.rolname = 'dbrole_readonly' AND m.rolname LIKE 'chaos\_u%'
	UNION ALL SELECT 'database', datname FROM pg_database WHERE datname = 'chaos_db'
) live ORDER BY 1`

const loggedObjectsSQL = `
SELECT DISTINCT kind || ' ' || object FROM pgreconciler.change_log
WHERE status = 'applied' AND kind IN ('role', 'password', 'membership', 'database')
	AND (object LIKE 'chaos\_u%' OR object = 'chaos_db')
ORDER BY 1`

// pendingObjectsSQL lists the objects of intent rows a dead run left
// (apply's intent.go): live or not, the next run settles them.
const pendingObjectsSQL = `
SELECT DISTINCT kind || ' ' || object FROM pgreconciler.change_log WHERE status = 'pending' ORDER BY 1`

// twiceSQL lists changes the change log records as applied twice for one
// commit: a run that repeated what was done.
const twiceSQL = `
SELECT kind || ' ' || object || ' x' || count(*) FROM pgreconciler.change_log
WHERE status = 'applied' GROUP BY kind, object, commit HAVING count(*) > 1 ORDER BY 1`

func (f *fixture) column(sql string) []string {
	f.t.Helper()
	rows, err := cluster.Primary.LocalQuery(context.Background(), "postgres", sql)
	if err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

func (f *fixture) changeLogExists() bool { return f.relationExists("pgreconciler.change_log") }

func (f *fixture) relationExists(name string) bool {
	f.t.Helper()
	return cluster.Primary.MustLocalValue(f.t, "postgres", `SELECT count(*) FROM (SELECT to_regclass('`+name+`') AS r) x WHERE r IS NOT NULL`) == "1"
}

// checkCatalog: the live objects of the spec are exactly those the change
// log records as applied, and nothing was applied twice.
func (f *fixture) checkCatalog(when string) (live int) {
	f.t.Helper()
	liveSet := f.column(liveObjectsSQL)
	var logged, twice, pending []string
	if f.changeLogExists() {
		logged, twice, pending = f.column(loggedObjectsSQL), f.column(twiceSQL), f.column(pendingObjectsSQL)
	}
	if len(pending) > 0 {
		f.t.Logf("%s: intent rows the run left, for the next run to settle: %s", when, strings.Join(pending, ", "))
	}
	var notLogged, notLive []string
	for _, o := range liveSet {
		if !slices.Contains(logged, o) && !slices.Contains(pending, o) {
			notLogged = append(notLogged, o)
		}
	}
	for _, o := range logged {
		if !slices.Contains(liveSet, o) {
			notLive = append(notLive, o)
		}
	}
	if len(notLogged) > 0 {
		f.t.Errorf("%s: live but not in the change log: %s", when, strings.Join(notLogged, ", "))
	}
	if len(notLive) > 0 {
		f.t.Errorf("%s: in the change log as applied but not live: %s", when, strings.Join(notLive, ", "))
	}
	if len(twice) > 0 {
		f.t.Errorf("%s: applied more than once for one commit: %s", when, strings.Join(twice, ", "))
	}
	return len(liveSet)
}

// checkFiles: the server reads its pg_hba.conf and configuration files
// without an error, and pg_hba.conf is one of the files the runs meant
// (before: what it was; it is checked against the converged file later).
func (f *fixture) checkFiles(when string) []byte {
	f.t.Helper()
	for _, q := range []string{
		`SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL`,
		`SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL`,
	} {
		if n := cluster.Primary.MustLocalValue(f.t, "postgres", q); n != "0" {
			f.t.Errorf("%s: %s = %s: a configuration file the server cannot read", when, q, n)
		}
	}
	b, err := os.ReadFile(cluster.Primary.HBAPath())
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// checkState: the state directory's files parse, and the last applied
// commit is one of those allowed ("" for none). strict: no temporary
// file is left either.
func (f *fixture) checkState(when string, strict bool, allowed ...string) {
	f.t.Helper()
	st, err := source.LoadState(f.stateDir, "default")
	if err != nil {
		f.t.Errorf("%s: the state directory: %v", when, err)
	} else if !slices.Contains(allowed, st.Commit) {
		f.t.Errorf("%s: the state says %q was applied, want one of %q", when, st.Commit, allowed)
	}
	if _, err := source.LoadRefused(f.stateDir, "default"); err != nil {
		f.t.Errorf("%s: the refused commits: %v", when, err)
	}
	entries, _ := os.ReadDir(f.stateDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			if strict {
				f.t.Errorf("%s: a temporary file is left in the state directory: %s", when, e.Name())
			} else {
				// The kill came while it was written: a leftover older
				// than a minute is removed by the next write (source's
				// removeStaleTemps); age it past that.
				f.t.Logf("%s: a temporary file is left in the state directory (the kill came while it was written), aged a minute for the next write to remove: %s", when, e.Name())
				old := time.Now().Add(-2 * time.Minute)
				_ = os.Chtimes(filepath.Join(f.stateDir, e.Name()), old, old)
			}
		}
	}
}

// converge runs apply without a fault, then plan: the apply succeeds, the
// plan is empty, every object of the spec is live and logged, and the
// state names commit.
func (f *fixture) converge(commit string, hbaBefore, hbaAfterFault []byte) {
	f.t.Helper()
	if out, code := f.run("converging apply", f.args("apply")...); code != 0 {
		// The interrupted run's session may still be running its CREATE
		// DATABASE when this run takes the lock: it waits for it (apply's
		// resolvePending) instead of sending it again.
		f.t.Fatalf("the apply after the fault: exit %d\n%s", code, out)
	}
	if out, code := f.run("plan after converging", f.args("plan", "--detailed-exitcode")...); code != 0 {
		f.t.Errorf("the plan after the converging apply: exit %d (2: changes left)\n%s", code, out)
	}
	// roles, passwords and memberships of every role, and the database
	if f.changeLogExists() {
		if pending := f.column(pendingObjectsSQL); len(pending) > 0 {
			f.t.Errorf("converged: intent rows left pending: %s", strings.Join(pending, ", "))
		}
	}
	if live := f.checkCatalog("converged"); live != 3*f.roles+1 {
		f.t.Errorf("converged: %d objects of the spec live, want %d", live, 3*f.roles+1)
	}
	final := f.checkFiles("converged")
	if !slices.Equal(hbaAfterFault, hbaBefore) && !slices.Equal(hbaAfterFault, final) {
		f.t.Errorf("pg_hba.conf after the fault is neither the file before nor the converged one:\n%s", hbaAfterFault)
	}
	f.checkState("converged", true, commit)
}

// checkNoSecret: no password of the spec in any output of the run, in
// the server's log since the run began, in the change log or in
// pg_stat_statements.
func (f *fixture) checkNoSecret() {
	f.t.Helper()
	texts := map[string]string{}
	for name, out := range f.outputs {
		texts["the output of "+name] = out
	}
	log, err := cluster.Primary.Log()
	if err != nil {
		f.t.Fatal(err)
	}
	if f.logFrom <= len(log) {
		texts["the server log"] = log[f.logFrom:]
	} else {
		texts["the server log"] = log // rotated: search it all
	}
	if !strings.Contains(texts["the server log"], "chaos_u0000") {
		f.t.Errorf("the server log does not show the run's statements: the secret check would prove nothing")
	}
	if f.changeLogExists() {
		texts["the change log"] = strings.Join(f.column(`SELECT concat_ws('|', object, statement, error) FROM pgreconciler.change_log`), "\n")
	}
	if f.relationExists("pg_stat_statements") {
		texts["pg_stat_statements"] = strings.Join(f.column(`SELECT query FROM pg_stat_statements`), "\n")
	}
	for where, text := range texts {
		if i := strings.Index(text, secretMark); i >= 0 {
			f.t.Errorf("a password reached %s: …%s…", where, text[max(0, i-80):min(len(text), i+80)])
		}
	}
}

// waitServer waits until the primary answers.
func waitServer(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := cluster.Primary.LocalValue(context.Background(), "postgres", "SELECT 1"); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the primary does not answer 60 s after its start")
}

// hostOf is the address part of host:port.
func hostOf(addr string) string {
	h, _, _ := strings.Cut(addr, ":")
	return h
}
