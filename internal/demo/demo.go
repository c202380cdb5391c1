// Package demo is `make demo`: it starts a throwaway primary and replica on
// loopback, turns examples/repo into a signed local spec repository, runs
// the reconciler daemon against it and narrates what happens — the first
// plan, the apply, a signed change picked up, a manual change healed, an
// unsigned commit refused — with the metrics that show each step.
//
// Every step checks its outcome and Run returns an error naming the step
// that did not happen, so the demo doubles as an end-to-end test.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// Options configure a demo run.
type Options struct {
	Bin      string    // the reconciler binary
	Dir      string    // working directory for the repository, keys, state and logs (.demo)
	Examples string    // examples/repo
	Out      io.Writer // the narration
	Keep     bool      // leave everything running until ctx is done, printing the URLs
	Wait     time.Duration
}

type run struct {
	Options
	ctx     context.Context
	cluster *testenv.Cluster
	repo    string
	signers string
	key     string
	listen  string
	env     []string
	daemon  *exec.Cmd
	exited  chan struct{} // closed when the daemon has exited
	logFile *os.File
}

// Run plays the demo. It stops everything it started before returning
// (after ctx is done, when Keep is set).
func Run(ctx context.Context, o Options) (err error) {
	if o.Wait == 0 {
		o.Wait = 60 * time.Second
	}
	r := &run{Options: o, ctx: ctx}
	start := time.Now()
	defer r.cleanup()
	steps := []struct {
		title string
		fn    func() error
	}{
		{"Start a throwaway primary and replica", r.startCluster},
		{"Make a signed spec repository from examples/repo", r.makeRepo},
		{"Validate the spec", r.validate},
		{"The first plan", r.firstPlan},
		{"Run the daemon: it verifies the commit and applies it", r.startDaemon},
		{"A signed change to a user and an HBA rule", r.signedChange},
		{"A manual ALTER ROLE: drift detected and healed", r.manualDrift},
		{"An unsigned commit is refused", r.unsignedCommit},
		{"What the metrics show", r.metrics},
	}
	for i, s := range steps {
		r.say("\n\033[1m== %d. %s\033[0m\n", i+1, s.title)
		if err := s.fn(); err != nil {
			return fmt.Errorf("demo step %d (%s): %w", i+1, s.title, err)
		}
	}
	r.say("\nThe demo took %s.\n", time.Since(start).Round(time.Second))
	if o.Keep {
		r.say("\nStill running (DEMO_KEEP=1); press Ctrl-C to stop everything.\n")
		r.say("  metrics: http://%s/metrics\n  status:  http://%s/status\n", r.listen, r.listen)
		r.say("  psql:    PGPASSWORD=%s psql 'host=%s port=%d user=%s dbname=postgres sslmode=require'\n",
			r.cluster.SuperPassword, r.cluster.Primary.Addr, r.cluster.Port, r.cluster.SuperUser)
		r.say("  spec:    %s (edit, then git commit -S)\n  log:     %s\n", r.repo, r.logFile.Name())
		<-ctx.Done()
	}
	return nil
}

func (r *run) say(format string, args ...any) { fmt.Fprintf(r.Out, format, args...) }

func (r *run) cleanup() {
	if r.exited != nil {
		_ = r.daemon.Process.Signal(os.Interrupt)
		select {
		case <-r.exited:
		case <-time.After(20 * time.Second):
			_ = r.daemon.Process.Kill()
			<-r.exited
		}
	}
	if r.logFile != nil {
		_ = r.logFile.Close()
	}
	if r.cluster != nil {
		_ = r.cluster.Close()
		r.say("Stopped the daemon and the servers.\n")
	}
}

func (r *run) startCluster() error {
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-test", BaseIP: 11})
	if err != nil {
		return err
	}
	r.cluster = c
	r.env = append(os.Environ(), "PGUSER="+c.SuperUser, "PGPASSWORD="+c.SuperPassword,
		"PGSSLMODE=verify-full", "PGSSLROOTCERT="+c.CACertFile)
	r.say("primary %s and replica %s on port %d (PostgreSQL 15, SSL on, streaming replication)\n",
		c.Primary.Name()+" "+c.Primary.Addr, c.Replicas[0].Name()+" "+c.Replicas[0].Addr, c.Port)
	r.say("the reconciler logs in as %s over SSL, from the libpq environment (PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT)\n", c.SuperUser)
	return nil
}

// makeRepo copies examples/repo's globals and pg-test cluster, moved to
// the loopback addresses, into a new git repository signed with a fresh
// SSH key.
func (r *run) makeRepo() error {
	r.repo = filepath.Join(r.Dir, "repo")
	keys := filepath.Join(r.Dir, "keys")
	for _, d := range []string{r.repo, keys, filepath.Join(r.Dir, "state")} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	globals, err := os.ReadFile(filepath.Join(r.Examples, "globals.cue"))
	if err != nil {
		return err
	}
	cluster, err := os.ReadFile(filepath.Join(r.Examples, "pg-test.cue"))
	if err != nil {
		return err
	}
	g := strings.NewReplacer(`admin_ip: "10.10.10.10"`, `admin_ip: "127.0.0.1"`,
		`node_firewall_intranet: ["10.0.0.0/8",`, `node_firewall_intranet: ["127.0.0.0/8", "10.0.0.0/8",`,
		`hosts: "10.10.10.10": infra_seq: 1`, `hosts: "127.0.0.1": infra_seq: 1`).Replace(string(globals))
	var lines []string
	for _, l := range strings.Split(string(cluster), "\n") {
		switch {
		case strings.Contains(l, `"10.10.10.13"`):
			continue // the demo has one replica
		case strings.Contains(l, `pg_cluster: "pg-test"`):
			lines = append(lines, l, "\t\tpg_port:    "+strconv.Itoa(r.cluster.Port))
			continue
		}
		l = strings.ReplaceAll(l, `"10.10.10.11"`, `"`+r.cluster.Primary.Addr+`"`)
		l = strings.ReplaceAll(l, `"10.10.10.12"`, `"`+r.cluster.Replicas[0].Addr+`"`)
		lines = append(lines, l)
	}
	if err := os.WriteFile(filepath.Join(r.repo, "globals.cue"), []byte(g), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.repo, "pg-test.cue"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return err
	}
	r.key = filepath.Join(keys, "dba_ed25519")
	if _, err := r.cmd("", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dba@example.com", "-f", r.key); err != nil {
		return err
	}
	pub, err := os.ReadFile(r.key + ".pub")
	if err != nil {
		return err
	}
	r.signers = filepath.Join(keys, "allowed_signers")
	f := strings.Fields(string(pub))
	if err := os.WriteFile(r.signers, []byte("dba@example.com namespaces=\"git\" "+f[0]+" "+f[1]+"\n"), 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"config", "user.name", "Demo DBA"},
		{"config", "user.email", "dba@example.com"},
		{"config", "gpg.format", "ssh"},
		{"config", "user.signingkey", r.key},
		{"config", "gpg.ssh.allowedSignersFile", r.signers},
		{"add", "."},
		{"commit", "-q", "-S", "-m", "pg-test: users, databases, HBA and parameters"},
	} {
		if _, err := r.cmd(r.repo, "git", args...); err != nil {
			return err
		}
	}
	out, _ := r.cmd(r.repo, "git", "log", "--show-signature", "-1", "--format=%h %s")
	r.say("%s: one commit, signed with an SSH key that %s trusts:\n%s", r.repo, r.signers, indent(out))
	return nil
}

func (r *run) validate() error {
	out, err := r.reconciler("validate", "--repo", r.repo)
	r.say("$ reconciler validate --repo %s\n%s", r.repo, indent(out))
	return err
}

func (r *run) firstPlan() error {
	out, err := r.reconciler("plan", "--repo", r.repo, "--allowed-signers", r.signers, "--detailed-exitcode")
	if code := exitCode(err); code != 2 {
		return fmt.Errorf("plan exited %d, want 2 (drift):\n%s", code, out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	r.say("$ reconciler plan --repo %s --allowed-signers %s\n", r.repo, r.signers)
	if len(lines) > 30 {
		r.say("%s    … (%d more lines)\n%s", indent(strings.Join(lines[:26], "\n")+"\n"), len(lines)-27, indent(lines[len(lines)-1]+"\n"))
	} else {
		r.say("%s", indent(out))
	}
	return nil
}

func (r *run) startDaemon() error {
	l, err := net.Listen("tcp", "127.0.0.1:9910")
	if err != nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
	}
	r.listen = l.Addr().String()
	l.Close()
	if r.logFile, err = os.Create(filepath.Join(r.Dir, "daemon.log")); err != nil {
		return err
	}
	args := []string{"run", "--repo", r.repo, "--allowed-signers", r.signers, "--drift-interval", "2s",
		"--poll-interval", "1h", "--listen", r.listen, "--state-dir", filepath.Join(r.Dir, "state")}
	r.daemon = exec.Command(r.Bin, args...)
	r.daemon.Env, r.daemon.Stdout, r.daemon.Stderr = r.env, r.logFile, r.logFile
	if err := r.daemon.Start(); err != nil {
		return err
	}
	r.exited = make(chan struct{})
	go func() { _ = r.daemon.Wait(); close(r.exited) }()
	r.say("$ reconciler run --repo %s --allowed-signers %s --drift-interval 2s --listen %s   (log: %s)\n", r.repo, r.signers, r.listen, r.logFile.Name())
	start := time.Now()
	if err := r.waitFor("the first apply", func() bool {
		return r.metric("pgreconciler_reconcile_total", `result="success"`) > 0 && r.metric("pgreconciler_drift_items") == 0
	}); err != nil {
		return err
	}
	r.say("converged in %s: %.0f changes applied, drift 0; the commit and its signer are in pgreconciler.change_log:\n",
		time.Since(start).Round(100*time.Millisecond), r.metric("pgreconciler_applied_changes_total"))
	out, err := r.query("SELECT kind || ' ' || object || '  @' || left(commit, 12) || ' by ' || signer FROM pgreconciler.change_log ORDER BY id LIMIT 4")
	r.say("%s    …\n", indent(out))
	return err
}

func (r *run) signedChange() error {
	file := filepath.Join(r.repo, "pg-test.cue")
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), "connlimit: 64", "connlimit: 128", 1)
	s = strings.Replace(s, "pg_hba_rules: [", `pg_hba_rules: [
			{user: "dbuser_report", db: "app", addr: "127.0.0.0/8", auth: "ssl", title: "reports over ssl from loopback", order: 60},`, 1)
	if s == string(b) {
		return fmt.Errorf("the example pg-test.cue changed: cannot edit it")
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		return err
	}
	start := time.Now()
	if _, err := r.cmd(r.repo, "git", "commit", "-q", "-S", "-a", "-m", "dbuser_app: 128 connections; reports over ssl"); err != nil {
		return err
	}
	r.say("$ git commit -S -a -m 'dbuser_app: 128 connections; reports over ssl'   (connlimit 64 → 128, one HBA rule added)\n")
	if err := r.waitFor("the signed change", func() bool {
		hba, _ := os.ReadFile(r.cluster.Replicas[0].HBAPath())
		return r.scalar("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'dbuser_app'") == "128" && bytes.Contains(hba, []byte("dbuser_report"))
	}); err != nil {
		return err
	}
	r.say("picked up through fsnotify and applied in %s: dbuser_app has 128 connections, pg_hba.conf of both instances has the new rule\n",
		time.Since(start).Round(100*time.Millisecond))
	return nil
}

func (r *run) manualDrift() error {
	before := r.metric("pgreconciler_applied_changes_total", `kind="role"`)
	if err := r.exec("ALTER ROLE dbuser_app CONNECTION LIMIT 1"); err != nil {
		return err
	}
	start := time.Now()
	r.say("$ psql -c 'ALTER ROLE dbuser_app CONNECTION LIMIT 1'   (by hand, not in Git)\n")
	if err := r.waitFor("the drift to be healed", func() bool {
		return r.scalar("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'dbuser_app'") == "128"
	}); err != nil {
		return err
	}
	r.say("the drift check saw it and set it back to 128 in %s (applied role changes: %.0f → %.0f)\n",
		time.Since(start).Round(100*time.Millisecond), before, r.metric("pgreconciler_applied_changes_total", `kind="role"`))
	return nil
}

func (r *run) unsignedCommit() error {
	file := filepath.Join(r.repo, "pg-test.cue")
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), "pg_users: [", `pg_users: [
			{name: "intruder", superuser: true, password: "let-me-in"},`, 1)
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		return err
	}
	if _, err := r.cmd(r.repo, "git", "-c", "commit.gpgsign=false", "commit", "-q", "-a", "-m", "add a superuser (unsigned)"); err != nil {
		return err
	}
	r.say("$ git commit -a -m 'add a superuser (unsigned)'   (no -S)\n")
	if err := r.waitFor("the refusal", func() bool {
		return r.metric("pgreconciler_verification_failures_total", `reason="unsigned"`) >= 1
	}); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // a drift interval: the last good commit stays in force
	if r.scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'") != "0" {
		return fmt.Errorf("the unsigned commit was applied")
	}
	r.say("refused before the spec was even read; role intruder does not exist; the daemon stays on the last signed commit:\n")
	log, _ := os.ReadFile(r.logFile.Name())
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "commit refused") {
			r.say("%s", indent(l+"\n"))
			break
		}
	}
	return nil
}

func (r *run) metrics() error {
	body, err := r.get("/metrics")
	if err != nil {
		return err
	}
	r.say("$ curl -s http://%s/metrics | grep pgreconciler_   (selected series)\n", r.listen)
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "pgreconciler_drift_items{") && strings.Contains(l, `instance="pg-test-1"`),
			strings.HasPrefix(l, "pgreconciler_reconcile_total{") && !strings.HasSuffix(l, " 0"),
			strings.HasPrefix(l, "pgreconciler_applied_changes_total{") && strings.Contains(l, `kind="role"`),
			strings.HasPrefix(l, "pgreconciler_source_info"),
			strings.HasPrefix(l, "pgreconciler_instance_up"),
			strings.HasPrefix(l, "pgreconciler_verification_failures_total") && !strings.HasSuffix(l, " 0"):
			r.say("  %s\n", l)
		}
	}
	r.say("Grafana dashboard: deploy/grafana/pgreconciler-dashboard.json; alert rules: deploy/prometheus/alerts.yml\n")
	return nil
}

// helpers

func (r *run) cmd(dir, name string, args ...string) (string, error) {
	c := exec.CommandContext(r.ctx, name, args...)
	c.Dir, c.Env = dir, r.env
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (r *run) reconciler(args ...string) (string, error) {
	c := exec.CommandContext(r.ctx, r.Bin, args...)
	c.Env = r.env
	out, err := c.CombinedOutput()
	return string(out), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(*exec.ExitError); ok {
		return e.ExitCode()
	}
	return -1
}

func (r *run) conn() (*pgx.Conn, error) {
	return r.cluster.Primary.Connect(r.ctx, r.cluster.SuperUser, r.cluster.SuperPassword, "postgres")
}

func (r *run) exec(sql string) error {
	c, err := r.conn()
	if err != nil {
		return err
	}
	defer c.Close(r.ctx)
	_, err = c.Exec(r.ctx, sql)
	return err
}

func (r *run) scalar(sql string) string {
	c, err := r.conn()
	if err != nil {
		return ""
	}
	defer c.Close(r.ctx)
	var v any
	if err := c.QueryRow(r.ctx, sql).Scan(&v); err != nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (r *run) query(sql string) (string, error) {
	c, err := r.conn()
	if err != nil {
		return "", err
	}
	defer c.Close(r.ctx)
	rows, err := c.Query(r.ctx, sql)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		b.WriteString(s + "\n")
	}
	return b.String(), rows.Err()
}

func (r *run) get(path string) (string, error) {
	resp, err := http.Get("http://" + r.listen + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// metric sums the samples of a metric whose labels contain all of labels.
func (r *run) metric(name string, labels ...string) float64 {
	return testenv.ScrapeSum("http://"+r.listen+"/metrics", name, labels...)
}

func (r *run) waitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(r.Wait)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		select {
		case <-r.exited: // nil before the daemon starts: never ready
			return fmt.Errorf("the daemon exited while waiting for %s (see %s)", what, r.logFile.Name())
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not happen within %s (daemon log: %s)", what, r.Wait, r.logFile.Name())
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
