package demo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func (r *run) startCluster() error {
	major := r.PGMajor
	if major == 0 {
		major = testenv.DefaultMajor
	}
	c, err := testenv.StartCluster(testenv.Options{Name: "pg-test", BaseIP: 11, Major: major})
	if err != nil {
		return err
	}
	r.cluster = c
	// The reconciler and psql log in from libpq's environment; the
	// password goes in a passfile, so that no command line shows it.
	pgpass, ca := filepath.Join(r.Dir, "pgpass"), filepath.Join(r.Dir, "ca.crt")
	if err := os.WriteFile(pgpass, []byte("*:*:*:"+c.SuperUser+":"+c.SuperPassword+"\n"), 0o600); err != nil {
		return err
	}
	cert, err := os.ReadFile(c.CACertFile)
	if err != nil {
		return err
	}
	if err := os.WriteFile(ca, cert, 0o644); err != nil {
		return err
	}
	bin := filepath.Dir(r.Bin)
	pg := []string{"PGUSER=" + c.SuperUser, "PGPASSFILE=" + pgpass, "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + ca}
	r.exports = append([]string{"PATH=" + shellQuote(bin) + ":$PATH"}, quoteAll(pg)...)
	r.env = environment(append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, pg...))
	r.say("primary %s %s and replica %s %s on port %d (PostgreSQL %s, SSL on, streaming replication) in %s\n",
		c.Primary.Name(), c.Primary.Addr, c.Replicas[0].Name(), c.Replicas[0].Addr, c.Port, c.Version, r.clusterDir())
	r.say("every command below runs in %s with\n    export %s\n", r.Base, strings.Join(r.exports, " "))
	r.say("(the reconciler takes host and port from the spec, the login from libpq's environment)\n")
	return r.startPooler()
}

func quoteAll(kvs []string) []string {
	q := make([]string, len(kvs))
	for i, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		q[i] = k + "=" + shellQuote(v)
	}
	return q
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
	if err := r.copyExamples(); err != nil {
		return err
	}
	r.key = filepath.Join(keys, "dba_ed25519")
	if err := r.shQuiet(command{argv: []string{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dba@example.com", "-f", r.path(r.key)}}); err != nil {
		return err
	}
	pub, err := os.ReadFile(r.key + ".pub")
	if err != nil {
		return err
	}
	r.signers = filepath.Join(keys, "allowed_signers")
	f := strings.Fields(string(pub))
	line := "dba@example.com namespaces=\"git\" " + f[0] + " " + f[1]
	if err := os.WriteFile(r.signers, []byte(line+"\n"), 0o644); err != nil {
		return err
	}
	r.say("wrote %s, which trusts that key for git commits:\n%s", r.path(r.signers), indent(line))
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
		if err := r.shQuiet(r.git(args...)); err != nil {
			return err
		}
	}
	out, _, err := r.sh(r.git("log", "--show-signature", "-1", "--format=%h %s"))
	r.say("%s", indent(out))
	return err
}

// copyExamples writes examples/repo's globals and pg-test cluster, moved to
// the demo's addresses and port, into the repository.
func (r *run) copyExamples() error {
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
		l = strings.Replace(l, `pg_role: "primary"}`, `pg_role: "primary", `+r.poolerVars()+`}`, 1)
		l = strings.Replace(l, `pg_role: "replica"}`, `pg_role: "replica", pgbouncer_enabled: false}`, 1)
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
	r.say("wrote %s/globals.cue and pg-test.cue from %s: pg-test-1 and pg-test-2 on %s and %s, port %d; no pg-test-3; pg-test-1's PgBouncer on port %d\n",
		r.path(r.repo), r.path(r.Examples), r.cluster.Primary.Addr, r.cluster.Replicas[0].Addr, r.cluster.Port, r.pooler.Port)
	return nil
}

func (r *run) git(args ...string) command {
	return command{argv: append([]string{"git", "-C", r.path(r.repo)}, args...)}
}

// reconcile runs a reconciler command, shows its output (the first head
// lines and the last one when longer) and its exit code, and fails unless
// the exit code is want.
func (r *run) reconcile(want int, meaning string, head int, args ...string) error {
	out, code, err := r.sh(r.reconcilerCmd(args...))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > head+4 {
		r.say("%s    … (%d more lines)\n%s", indent(strings.Join(lines[:head], "\n")), len(lines)-head-1, indent(lines[len(lines)-1]))
	} else {
		r.say("%s", indent(out))
	}
	r.say("→ exit %d%s\n", code, meaning)
	if code != want {
		return fmt.Errorf("exit %d, want %d: %v", code, want, err)
	}
	return nil
}

func (r *run) validate() error {
	return r.reconcile(0, "", 20, "validate", "--repo", r.path(r.repo))
}

func (r *run) firstPlan() error {
	return r.reconcile(2, " (--detailed-exitcode: 2 means there are changes to make)", 26,
		"plan", "--repo", r.path(r.repo), "--allowed-signers", r.path(r.signers), "--detailed-exitcode")
}

func (r *run) startDaemon() error {
	listen, err := freeListenAddr()
	if err != nil {
		return err
	}
	r.listen = listen
	if err := r.startDaemonProcess(r.reconcilerCmd("run", "--repo", r.path(r.repo), "--allowed-signers", r.path(r.signers),
		"--drift-interval", "2s", "--poll-interval", "1h", "--listen", r.listen, "--state-dir", r.path(filepath.Join(r.Dir, "state")),
		"--pgbouncer", "apply")); err != nil {
		return err
	}
	start := time.Now()
	if err := r.waitFor("the first apply", func() bool {
		return r.metric("pgreconciler_reconcile_total", `result="success"`) > 0 && r.metric("pgreconciler_drift_items") == 0
	}); err != nil {
		return err
	}
	r.say("converged in %s: %.0f changes applied, drift 0; the commit and its signer are in pgreconciler.change_log:\n",
		time.Since(start).Round(100*time.Millisecond), r.metric("pgreconciler_applied_changes_total"))
	out, _, err := r.sh(r.psql("-Atc", "SELECT kind || ' ' || object || '  @' || left(commit, 12) || ' by ' || signer FROM pgreconciler.change_log ORDER BY id LIMIT 4"))
	r.say("%s", indent(out))
	return err
}

// psql is a psql command on the primary, logging in from the environment.
func (r *run) psql(args ...string) command {
	conn := fmt.Sprintf("host=%s port=%d dbname=postgres", r.cluster.Primary.Addr, r.cluster.Port)
	return command{argv: append([]string{"psql", "-X", conn}, args...)}
}

// editSpec replaces old with new in the repository's pg-test.cue.
func (r *run) editSpec(old, new string) error {
	file := filepath.Join(r.repo, "pg-test.cue")
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), old, new, 1)
	if s == string(b) {
		return fmt.Errorf("edit %s: %q is not in it (did examples/repo/pg-test.cue change?)", r.path(file), old)
	}
	return os.WriteFile(file, []byte(s), 0o644)
}

func (r *run) signedChange() error {
	if err := r.editSpec("connlimit: 64", "connlimit: 128"); err != nil {
		return err
	}
	if err := r.editSpec("pg_hba_rules: [", `pg_hba_rules: [
			{user: "dbuser_report", db: "app", addr: "127.0.0.0/8", auth: "ssl", title: "reports over ssl from loopback", order: 60},`); err != nil {
		return err
	}
	r.say("edited %s/pg-test.cue: dbuser_app connlimit 64 → 128; an HBA rule for dbuser_report from 127.0.0.0/8 over SSL\n", r.path(r.repo))
	start := time.Now()
	if err := r.shQuiet(r.git("commit", "-q", "-S", "-a", "-m", "dbuser_app: 128 connections; reports over ssl")); err != nil {
		return err
	}
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
	r.say("by hand, not in Git:\n")
	out, _, err := r.sh(r.psql("-c", "ALTER ROLE dbuser_app CONNECTION LIMIT 1"))
	r.say("%s", indent(out))
	if err != nil {
		return err
	}
	start := time.Now()
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
	if err := r.editSpec("pg_users: [", `pg_users: [
			{name: "intruder", superuser: true, password: "let-me-in"},`); err != nil {
		return err
	}
	r.say("edited %s/pg-test.cue: a superuser named intruder\n", r.path(r.repo))
	// -c commit.gpgsign=false: unsigned even if your git config signs by default.
	if err := r.shQuiet(r.git("-c", "commit.gpgsign=false", "commit", "-q", "-a", "-m", "add a superuser (unsigned)")); err != nil {
		return err
	}
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
	out, _, err := r.sh(command{argv: []string{"grep", "-m1", "commit refused", r.path(r.logFile.Name())}})
	r.say("%s", indent(out))
	return err
}

func (r *run) metrics() error {
	url := "http://" + r.listen + "/metrics"
	for _, pipeline := range []string{
		`grep -E '^pgreconciler_drift_items\{.*instance="pg-test-1"'`,
		`grep -E '^pgreconciler_(reconcile_total|applied_changes_total|verification_failures_total|instance_up|source_info)\{' | grep -v ' 0$'`,
	} {
		c := command{argv: []string{"sh", "-c", "curl -s " + url + " | " + pipeline}}
		// Shown as the pipeline itself, which is what sh -c runs.
		r.say("$ curl -s %s | %s\n", url, pipeline)
		out, err := c.exec(r).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", c.argv[2], err, out)
		}
		r.say("%s", indent(string(out)))
	}
	r.say("Grafana dashboard: deploy/grafana/pgreconciler-dashboard.json; alert rules: deploy/prometheus/alerts.yml\n")
	return nil
}
