// Command bench is the whole-process half of `make bench` and `make
// bench-peers`: it runs bin/reconciler as a user or CI runs it, as a child
// process, on generated workloads against a throwaway PostgreSQL server
// (internal/testenv), and prints each scenario's wall time and peak RSS
// (the child's ru_maxrss from wait4), with the physical limit of an apply
// (the same statements sent in transactions of as many changes as the
// apply's: --tx-changes, 1,000 as apply.DefaultMaxTxChanges) and, with --peer, the
// same scenarios run by ldap2pg in the same run, alternating, with ratios.
//
// Scenarios, per size: validate (YAML and CUE), plan in sync, plan with
// 100 drifts, apply from empty, and the limit. Every spec declares every
// role attribute (see workload.go). Both tools must reach the same end
// state: after ldap2pg --real, `reconciler plan` must find nothing to do,
// and after `reconciler apply`, `ldap2pg --check` must find nothing.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var sizes = map[string]size{
	"1k":  {Name: "1k", Groups: 10, Logins: 1000},
	"10k": {Name: "10k", Groups: 100, Logins: 10000},
	"50k": {Name: "50k", Groups: 500, Logins: 50000},
}

type bench struct {
	bin, peer, psql string
	runs            int
	txChanges       int // changes per transaction of the limit
	cluster         *testenv.Cluster
	env, peerEnv    []string
	out             io.Writer
	admin           *pgx.Conn
	lastRoles       int     // the previous size's roles
	lastRSS         float64 // and its plan's peak RSS, MiB
}

func run() error {
	bin := flag.String("bin", "bin/reconciler", "the reconciler binary (build it first: make build)")
	peer := flag.String("peer", "", "an ldap2pg 6 binary to run the same scenarios with (empty: none)")
	sizeList := flag.String("sizes", "1k,10k,50k", "workloads: 1k (10 groups + 1,000 logins), 10k (100 + 10,000), 50k (500 + 50,000); 5 memberships per login")
	runs := flag.Int("runs", 3, "runs of each scenario (the median is printed, with the range)")
	psql := flag.String("psql", "/usr/lib/postgresql/15/bin/psql", "psql, for the limit as `psql -f` sends it (skipped when absent)")
	txChanges := flag.Int("tx-changes", 1000, "changes per transaction of the limit: as many as the apply commits at once (apply.DefaultMaxTxChanges)")
	work := flag.String("dir", "", "where the workloads are written (default: a temporary directory, removed)")
	daemonCycles := flag.Int("daemon-cycles", 0, "then run `reconciler run` on the 10k workload for this many drift cycles (1s apart), reporting RSS and CPU per cycle (0: no)")
	flag.Parse()

	b := &bench{runs: *runs, txChanges: *txChanges, out: os.Stdout}
	var err error
	if b.bin, err = filepath.Abs(*bin); err != nil {
		return err
	}
	if _, err := os.Stat(b.bin); err != nil {
		return fmt.Errorf("the reconciler binary: %w (make build)", err)
	}
	if *peer != "" {
		if b.peer, err = filepath.Abs(*peer); err != nil {
			return err
		}
		if _, err := os.Stat(b.peer); err != nil {
			return fmt.Errorf("the peer binary: %w", err)
		}
	}
	if _, err := os.Stat(*psql); err == nil {
		b.psql = *psql
	}
	var todo []size
	for _, n := range strings.Split(*sizeList, ",") {
		if n == "" {
			continue
		}
		s, ok := sizes[strings.TrimSpace(n)]
		if !ok {
			return fmt.Errorf("unknown size %q: want 1k, 10k or 50k", n)
		}
		todo = append(todo, s)
	}
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pgreconciler-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}

	ctx := context.Background()
	// The test harness logs every statement (the tests read the server's
	// log for leaked secrets); a benchmark does not read it, and a 50k
	// apply and its limit would write gigabytes of it and time the logging.
	quiet := map[string]string{"log_statement": "none", "log_min_duration_statement": "-1"}
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-bench", Replicas: -1, BaseIP: 41, ExtraConf: quiet})
	if err != nil {
		return err
	}
	defer c.Close()
	b.cluster = c
	b.env = []string{"PGUSER=" + c.SuperUser, "PGPASSWORD=" + c.SuperPassword, "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + c.CACertFile}
	b.peerEnv = append([]string{"PGHOST=" + c.Primary.Addr, fmt.Sprintf("PGPORT=%d", c.Port), "PGDATABASE=postgres"}, b.env...)
	if b.admin, err = c.Primary.Admin(ctx); err != nil {
		return err
	}
	defer b.admin.Close(ctx)
	var protected []string
	rows, err := b.admin.Query(ctx, "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")
	if err != nil {
		return err
	}
	protected, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	t := target{Cluster: c.Name, Addr: c.Primary.Addr, Port: c.Port, Protected: protected}

	fmt.Fprintf(b.out, "# whole-process benchmark, %s\n\nreconciler: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), b.bin)
	if b.peer != "" {
		fmt.Fprintf(b.out, "peer: %s\n", b.peer)
	}
	fmt.Fprintf(b.out, "PostgreSQL %s on %s:%d (SSL, fsync off), %d runs per scenario: median [min–max]\n", c.Version, c.Primary.Addr, c.Port, b.runs)
	for _, s := range todo {
		if err := b.size(ctx, dir, t, s); err != nil {
			return fmt.Errorf("size %s: %w", s.Name, err)
		}
	}
	if *daemonCycles > 0 {
		if err := b.reset(ctx, sizes["10k"]); err != nil {
			return err
		}
		if err := b.daemonSteadyState(ctx, dir, t, sizes["10k"], *daemonCycles); err != nil {
			return err
		}
	}
	return nil
}

// row is one line of a size's table.
type row struct {
	name      string
	ours, alt stats
	hasAlt    bool
	note      string
}

func (b *bench) size(ctx context.Context, dir string, t target, s size) error {
	d := filepath.Join(dir, s.Name)
	yamlDir, err := writeYAML(d, t, s)
	if err != nil {
		return err
	}
	cueDir, err := writeCUE(d, t, s)
	if err != nil {
		return err
	}
	var peerConf string
	if b.peer != "" {
		if _, err = writeLdap2pg(d, t, s); err != nil {
			return err
		}
		peerConf = filepath.Join(d, "ldap2pg.yml")
	}
	yst, _ := os.Stat(filepath.Join(yamlDir, "pigsty.yml"))
	cst, _ := os.Stat(filepath.Join(cueDir, "fleet.cue"))
	fmt.Fprintf(b.out, "\n## %d roles, %d memberships (pigsty.yml %.1f MB, fleet.cue %.1f MB)\n\n", s.roles(), s.memberships(), float64(yst.Size())/1e6, float64(cst.Size())/1e6)

	rec := func(args ...string) []string { return append([]string{b.bin}, args...) }
	lp := func(args ...string) []string {
		return append([]string{b.peer, "--config", peerConf, "--quiet", "--quiet"}, args...)
	}
	var rows []*row
	add := func(name string) *row { r := &row{name: name}; rows = append(rows, r); return r }

	// validate: no server.
	for _, v := range []struct{ name, dir string }{{"validate (YAML)", yamlDir}, {"validate (CUE)", cueDir}} {
		r := add(v.name)
		for i := 0; i < b.runs; i++ {
			x, _, err := runProc(ctx, nil, []int{0}, rec("validate", "--repo", v.dir)...)
			if err != nil {
				return err
			}
			r.ours.add(x)
		}
	}

	// apply from empty, with the peer's --real alternating; each run ends
	// back at empty. A first apply, untimed, creates the change log (and
	// writes pg_hba.conf if it differs), so that runs compare alike.
	if err := b.reset(ctx, s); err != nil {
		return err
	}
	if _, _, err := runProc(ctx, b.env, []int{0}, rec("apply", "--repo", yamlDir)...); err != nil {
		return err
	}
	if err := b.reset(ctx, s); err != nil {
		return err
	}
	// The statements the plan from empty makes: the limit sends them, in
	// transactions of as many changes as the apply's (one transaction of
	// 50,000 roles exhausts the server's lock table).
	_, planJSON, err := runProc(ctx, b.env, []int{0, 2}, rec("plan", "--repo", yamlDir, "--format", "json")...)
	if err != nil {
		return err
	}
	changes, err := planStatements(planJSON)
	if err != nil {
		return err
	}
	limitText, nstmts := limitSQL(changes, b.txChanges)
	ap := add("apply from empty")
	ap.note = fmt.Sprintf("%d statements", nstmts)
	txs := fmt.Sprintf("%d transactions of ≤ %d changes", (len(changes)+b.txChanges-1)/b.txChanges, b.txChanges)
	limit := add("limit: " + txs + ", one message")
	var limitPsql *row
	if b.psql != "" {
		limitPsql = add("limit: psql -f, " + txs)
	}
	script := filepath.Join(d, "limit.sql")
	if err := os.WriteFile(script, []byte(limitText), 0o644); err != nil {
		return err
	}
	for i := 0; i < b.runs; i++ {
		x, _, err := runProc(ctx, b.env, []int{0}, rec("apply", "--repo", yamlDir)...)
		if err != nil {
			return err
		}
		ap.ours.add(x)
		if i == 0 && b.peer != "" { // the same end state, seen by the peer
			if _, _, err := runProc(ctx, b.peerEnv, []int{0}, lp("--check")...); err != nil {
				return fmt.Errorf("ldap2pg --check after reconciler apply (end states differ?): %w", err)
			}
		}
		if err := b.reset(ctx, s); err != nil {
			return err
		}
		if b.peer != "" {
			x, _, err := runProc(ctx, b.peerEnv, []int{0}, lp("--real")...)
			if err != nil {
				return err
			}
			ap.alt.add(x)
			ap.hasAlt = true
			if i == 0 {
				if _, _, err := runProc(ctx, b.env, []int{0}, rec("plan", "--repo", yamlDir, "--detailed-exitcode")...); err != nil {
					_, o, _ := runProc(ctx, b.env, []int{0, 2}, rec("plan", "--repo", yamlDir)...)
					return fmt.Errorf("reconciler plan after ldap2pg --real (end states differ?): %w\n%.3000s", err, o)
				}
			}
			if err := b.reset(ctx, s); err != nil {
				return err
			}
		}
		start := time.Now()
		if err := b.exec(ctx, limitText); err != nil {
			return fmt.Errorf("the limit: %w", err)
		}
		limit.ours.add(sample{Wall: time.Since(start)})
		if err := b.reset(ctx, s); err != nil {
			return err
		}
		if limitPsql != nil {
			x, _, err := runProc(ctx, append(b.peerEnv, "PGOPTIONS=-c client_min_messages=warning"), []int{0},
				b.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script)
			if err != nil {
				return err
			}
			limitPsql.ours.add(x)
			if err := b.reset(ctx, s); err != nil {
				return err
			}
		}
	}

	// plan, in sync and with 100 drifts.
	if _, _, err := runProc(ctx, b.env, []int{0}, rec("apply", "--repo", yamlDir)...); err != nil {
		return err
	}
	plan := func(name string, code int) error {
		for _, sp := range []struct{ kind, dir string }{{"YAML", yamlDir}, {"CUE", cueDir}} {
			r := add(fmt.Sprintf("%s (%s)", name, sp.kind))
			for i := 0; i < b.runs; i++ {
				x, _, err := runProc(ctx, b.env, []int{code}, rec("plan", "--repo", sp.dir, "--detailed-exitcode")...)
				if err != nil {
					return err
				}
				r.ours.add(x)
				if b.peer != "" && sp.kind == "YAML" {
					x, _, err := runProc(ctx, b.peerEnv, []int{min(code, 1)}, lp("--check")...)
					if err != nil {
						return err
					}
					r.alt.add(x)
					r.hasAlt = true
				}
			}
		}
		return nil
	}
	planRow := len(rows)
	if err := plan("plan, in sync", 0); err != nil {
		return err
	}
	if err := b.exec(ctx, driftSQL(s)); err != nil {
		return err
	}
	if err := plan("plan, 100 drifts", 2); err != nil {
		return err
	}
	if err := b.reset(ctx, s); err != nil {
		return err
	}
	b.print(rows)
	fmt.Fprintf(b.out, "\napply from empty / limit (one message): %.2f", ap.ours.wall()/limit.ours.wall())
	if limitPsql != nil {
		fmt.Fprintf(b.out, "; / limit (psql -f): %.2f", ap.ours.wall()/limitPsql.ours.wall())
	}
	rss := rows[planRow].ours.rss()
	fmt.Fprintf(b.out, "; plan in sync (YAML): %.2f KiB of peak RSS per declared role", rss*1024/float64(s.roles()))
	if b.lastRoles > 0 && s.roles() > b.lastRoles {
		fmt.Fprintf(b.out, ", %.2f KiB per role added since %d roles", (rss-b.lastRSS)*1024/float64(s.roles()-b.lastRoles), b.lastRoles)
	}
	fmt.Fprintln(b.out)
	b.lastRoles, b.lastRSS = s.roles(), rss
	return nil
}

func (b *bench) exec(ctx context.Context, sql string) error {
	_, err := b.admin.PgConn().Exec(ctx, sql).ReadAll()
	return err
}

// reset drops every benchmark role, then settles the catalogs.
func (b *bench) reset(ctx context.Context, s size) error {
	if err := b.exec(ctx, dropSQL(s)); err != nil {
		return err
	}
	// Thousands of roles created and dropped leave the shared catalogs
	// bloated and their statistics stale, which can turn a tool's catalog
	// query into minutes of nested loops: each run starts from fresh ones.
	for _, t := range []string{"pg_authid", "pg_auth_members", "pg_shdescription", "pg_db_role_setting"} {
		if _, err := b.admin.Exec(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) print(rows []*row) {
	peer := b.peer != ""
	if peer {
		fmt.Fprintln(b.out, "| scenario | reconciler time | reconciler RSS | ldap2pg time | ldap2pg RSS | time ratio | RSS ratio |")
		fmt.Fprintln(b.out, "|---|---:|---:|---:|---:|---:|---:|")
	} else {
		fmt.Fprintln(b.out, "| scenario | wall time | peak RSS | CPU | |")
		fmt.Fprintln(b.out, "|---|---:|---:|---:|---|")
	}
	for _, r := range rows {
		t := func(s *stats) string {
			lo, hi := s.rangeOf(func(x sample) float64 { return x.Wall.Seconds() })
			return fmt.Sprintf("%.3f s [%.3f–%.3f]", s.wall(), lo, hi)
		}
		m := func(s *stats) string {
			if s.rss() == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f MiB", s.rss())
		}
		if !peer {
			cpu := "—"
			if r.ours.cpu() > 0 {
				cpu = fmt.Sprintf("%.3f s", r.ours.cpu())
			}
			fmt.Fprintf(b.out, "| %s | %s | %s | %s | %s |\n", r.name, t(&r.ours), m(&r.ours), cpu, r.note)
			continue
		}
		if !r.hasAlt {
			fmt.Fprintf(b.out, "| %s | %s | %s | | | | |\n", r.name, t(&r.ours), m(&r.ours))
			continue
		}
		tr, mr := "—", "—"
		if r.alt.wall() > 0 {
			tr = fmt.Sprintf("%.2f", r.ours.wall()/r.alt.wall())
		}
		if r.alt.rss() > 0 && r.ours.rss() > 0 {
			mr = fmt.Sprintf("%.2f", r.ours.rss()/r.alt.rss())
		}
		fmt.Fprintf(b.out, "| %s | %s | %s | %s | %s | %s | %s |\n", r.name, t(&r.ours), m(&r.ours), t(&r.alt), m(&r.alt), tr, mr)
	}
}

// planStatements reads the SQL of every change of a JSON plan, one list
// per change.
func planStatements(out []byte) ([][]string, error) {
	var p struct {
		Clusters []struct {
			Changes []struct {
				SQL []string `json:"sql"`
			} `json:"changes"`
			Errors []any `json:"errors"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("read the JSON plan: %w", err)
	}
	var s [][]string
	for _, c := range p.Clusters {
		if len(c.Errors) > 0 {
			return nil, fmt.Errorf("the plan has errors: %v", c.Errors)
		}
		for _, ch := range c.Changes {
			if len(ch.SQL) > 0 {
				s = append(s, ch.SQL)
			}
		}
	}
	if len(s) == 0 {
		return nil, errors.New("the plan from empty has no statements")
	}
	return s, nil
}

// limitSQL is the statements of changes in transactions of at most per
// changes each, as the apply groups them, and how many statements it holds.
func limitSQL(changes [][]string, per int) (string, int) {
	var b strings.Builder
	n := 0
	for len(changes) > 0 {
		k := min(per, len(changes))
		b.WriteString("BEGIN;\n")
		for _, c := range changes[:k] {
			for _, st := range c {
				b.WriteString(st)
				b.WriteString(";\n")
				n++
			}
		}
		b.WriteString("COMMIT;\n")
		changes = changes[k:]
	}
	return b.String(), n
}
