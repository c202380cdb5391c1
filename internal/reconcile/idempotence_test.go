package reconcile

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// modifying matches a logged statement that changes something: DDL, DML,
// privileges, and a configuration reload. The reconciler's catalog reads
// (SELECT … FROM pg_…, BEGIN READ ONLY, COMMIT) do not match.
var modifying = regexp.MustCompile(`(?i)(statement|execute [^:]*): +(.*\bpg_reload_conf\b|` +
	`(ALTER|CREATE|DROP|GRANT|REVOKE|COMMENT|SECURITY|REASSIGN|INSERT|UPDATE|DELETE|TRUNCATE|COPY|VACUUM|CLUSTER|REINDEX|REFRESH|IMPORT|LOCK)\b)`)

// logMark is where a server's log ended.
type logMark struct {
	s      *testenv.Server
	offset int
}

func markLog(t *testing.T, s *testenv.Server) logMark {
	t.Helper()
	text, err := s.Log()
	if err != nil {
		t.Fatal(err)
	}
	return logMark{s: s, offset: len(text)}
}

// since returns the reconciler's logged lines after the mark (its sessions
// say "pgreconciler" in the log line prefix's application name).
func (m logMark) since(t *testing.T) []string {
	t.Helper()
	text, err := m.s.Log()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(text[m.offset:], "\n") {
		if strings.Contains(l, "pgreconciler") {
			out = append(out, l)
		}
	}
	return out
}

// TestConvergedApplyIsQuiet (P14): an apply right after one that converged
// a primary and a replica — parameters written with ALTER SYSTEM and
// reloaded, pg_hba.conf written and reloaded on both — sends no modifying
// statement and no reload to either, and writes neither pg_hba.conf. The
// server logs (every statement is logged) are the witness.
func TestConvergedApplyIsQuiet(t *testing.T) {
	reset(t)
	c := loadSpec(t, specFor(exampleVars))
	res := applyAll(t, c)
	wrote := map[string]bool{}
	for _, o := range res.Outcomes {
		if o.Status == plan.StatusApplied && (o.Change.Kind == plan.KindHBA || o.Change.Kind == plan.KindParameter) {
			wrote[o.Change.Instance+" "+string(o.Change.Kind)] = true
		}
	}
	for _, s := range cluster.Servers() {
		for _, k := range []plan.Kind{plan.KindHBA, plan.KindParameter} {
			if !wrote[s.Name()+" "+string(k)] {
				t.Fatalf("the first apply wrote no %s on %s: the test would prove nothing", k, s.Name())
			}
		}
	}
	if left := driftOf(first(planOf(t, c))); len(left) > 0 {
		t.Fatalf("not converged after one apply:%s", describe(left))
	}

	var marks []logMark
	mtimes := map[string]int64{}
	for _, s := range cluster.Servers() {
		marks = append(marks, markLog(t, s))
		fi, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		mtimes[s.Name()] = fi.ModTime().UnixNano()
	}
	res = applyAll(t, c)
	for _, o := range res.Outcomes {
		if o.Change.Drift() {
			t.Errorf("second apply: %s %s %s on %s: %s %s", o.Status, o.Change.Kind, o.Change.Object, o.Change.Instance, o.Change.Reason, o.Error)
		}
	}
	for _, m := range marks {
		lines := m.since(t)
		if len(lines) == 0 {
			t.Fatalf("%s logged nothing of the second apply's inspection: the check would prove nothing", m.s.Name())
		}
		for _, l := range lines {
			if modifying.MatchString(l) {
				t.Errorf("%s: the second apply sent: %s", m.s.Name(), l)
			}
		}
		fi, err := os.Stat(m.s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().UnixNano() != mtimes[m.s.Name()] {
			t.Errorf("%s: the second apply wrote pg_hba.conf", m.s.Name())
		}
	}
}

const exampleVars = `
pg_users: [
			{name: "test", password: "SCRAM-SHA-256$4096:ok8MznQIW05sySd7S5WEXA==$ZCj+CU4+d/CzDfJjp8x+ZgIHAhIVG/YMxIngldvzSR8=:8e1lonUZY0dGrCM2+lC6Lsq9G5wIIIPi+jo4N+WwDXc=", pgbouncer: true, roles: ["dbrole_admin"], comment: "test owner"},
			{name: "dbuser_app", password: "SCRAM-SHA-256$4096:VfG0Gf6lz7l6wo29lZA13Q==$g9ZJTSxOWO0jGzMYp/5+udSzp0MqoVJQ1OaBN06NYco=:4tn4kI1XgwqxeHKsYOipy33hst7P6aIRWjT4qbHJ42g=", pgbouncer: true, connlimit: 64, expire_in: 365, roles: ["dbrole_readwrite"], parameters: {statement_timeout: "30s", search_path: "app,public"}, comment: "order service"},
			{name: "dbuser_etl", password: "SCRAM-SHA-256$4096:Q7gTQQW1AJIDkmL3RnCe5w==$dnFJKN1dtkf+GE9/HwwIyiW92sx4MDTdib4rKqDowsY=:TsmFfT4ULBaWysYIfSktzV15MkaycoLzypWw35vRg+w=", expire_at: "2027-06-30", roles: ["dbrole_offline"], comment: "nightly ETL job"},
			{name: "dbuser_report", password: "SCRAM-SHA-256$4096:x6U5iQxC+Y42QNdrT71nYA==$IaMFey6IuiByS5CvnDpyQoNdxLyMTfoUWYypbWUGiOU=:FjaQBqgn7MbikMTb/7PBgrse+ORbSyhAL+JuBGeWwuA=", roles: ["dbrole_readonly", {name: "pg_read_all_stats", admin: false}], comment: "reporting dashboards"},
			{name: "dbuser_legacy", state: "absent"},
		]
		pg_databases: [
			{name: "test", owner: "test", comment: "test database"},
			{name: "app", owner: "dbuser_app", revokeconn: true, schemas: ["app"], extensions: ["pg_stat_statements"], parameters: {work_mem: "64MB"}},
		]
		pg_hba_rules: [
			{user: "dbuser_app", db: "app", addr: "10.20.0.0/16", auth: "ssl", title: "app servers via ssl", order: 50},
			{user: "+dbrole_offline", db: "all", addr: "10.30.0.0/16", auth: "pwd", role: "offline", title: "etl hosts on the offline replica only"},
			{user: "all", db: "all", addr: "10.99.0.0/16", auth: "deny", role: "primary", title: "no reporting subnet on the primary", order: 90},
			{rules: ["host all dbuser_report 10.40.0.0/16 scram-sha-256"], role: "replica", title: "reporting subnet reads from replicas"},
		]
		pg_parameters: {
			log_connections:            true
			log_statement:              "ddl"
			log_min_duration_statement: 100
		}
`
