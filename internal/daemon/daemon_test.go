package daemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// reconcilerBin is the reconciler, built once per test run.
func reconcilerBin(t *testing.T) string { return testenv.ReconcilerBinary(t) }

// proc is a daemon running as a subprocess.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startDaemon runs `reconciler run` with args (plus --listen and the JSON
// log format) and waits until it listens. It is stopped with SIGTERM at
// cleanup.
func startDaemon(t *testing.T, args ...string) *proc {
	t.Helper()
	return startDaemonEnv(t, nil, args...)
}

// startDaemonEnv is startDaemon with more environment variables; an
// inherited GOMEMLIMIT is dropped.
func startDaemonEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, addr: freeAddr(t), done: make(chan struct{})}
	args = append([]string{"run", "--listen", p.addr, "--log-format", "json"}, args...)
	p.cmd = exec.Command(reconcilerBin(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	// An io.Writer, not a pipe read by a goroutine of ours: Wait then
	// returns only after every byte is copied, and no line is too long.
	p.cmd.Stderr = procLog{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", p.logs())
		}
	})
	waitFor(t, 30*time.Second, "the daemon to listen", func() bool {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// procLog appends what the daemon writes to its stderr to p.log.
type procLog struct{ p *proc }

func (w procLog) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// get returns the body of the daemon's answer to GET path.
func (p *proc) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// metric returns the sum of the samples whose name and labels match
// (labels as `k="v"` fragments), or -1.
func (p *proc) metric(name string, labels ...string) float64 {
	return testenv.ScrapeSum("http://"+p.addr+"/metrics", name, labels...)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
	return 0
}

// roleExists asks the primary.
func roleExists(t *testing.T, name string) bool {
	v, err := cluster.Primary.LocalValue(context.Background(), "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '"+name+"'")
	return err == nil && v == "1"
}

func connlimit(t *testing.T, name string) string {
	v, _ := cluster.Primary.LocalValue(context.Background(), "postgres", "SELECT rolconnlimit FROM pg_roles WHERE rolname = '"+name+"'")
	return v
}

// signedRepo is a spec repository whose commits are signed with an SSH
// key the daemon trusts.
type signedRepo struct {
	repo    *gitenv.Repo
	signer  *gitenv.SSHSigner
	signers string // allowed_signers file
}

func newSignedRepo(t *testing.T, vars string) *signedRepo {
	r := &signedRepo{repo: gitenv.NewRepo(t), signer: gitenv.NewSSHSigner(t, "ed25519", "dba@example.com")}
	r.signers = filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(r.signers, []byte(r.signer.AllowedSignersLine(`namespaces="git"`)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.commit(vars, "initial spec", true)
	return r
}

func (r *signedRepo) commit(vars, msg string, signed bool) string {
	r.repo.WriteFile("fleet.cue", cluster.PigstySpec(vars))
	var s gitenv.Signer
	if signed {
		s = r.signer
	}
	return r.repo.Commit(msg, s)
}

const daemonVars = `
pg_users: [{name: "dbuser_app", password: "App.Secret.2026", connlimit: 20, roles: ["dbrole_readwrite"]}]
pg_default_privileges: []
`

// withUsers is daemonVars with more users (and extra vars).
func withUsers(users, extra string) string {
	return `
pg_users: [{name: "dbuser_app", password: "App.Secret.2026", connlimit: 20, roles: ["dbrole_readwrite"]}, ` + users + `]
pg_default_privileges: []
` + extra
}

// convergedDaemon resets the cluster, starts a daemon that follows a
// signed repository of daemonVars and checks for drift every second, and
// waits until it has converged the cluster.
func convergedDaemon(t *testing.T) (*signedRepo, *proc) {
	t.Helper()
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)
	return r, p
}

// converged waits until the daemon reports a successful reconcile with no
// drift left.
func converged(t *testing.T, p *proc, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "the cluster to converge", func() bool {
		return p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`, `result="success"`) > 0 &&
			p.metric("pgreconciler_drift_items", `cluster="pg-e2e"`) == 0
	})
}

// TestDaemonFollowsSignedCommits: the daemon applies the signed spec, picks
// up a new signed commit through fsnotify, heals a manual change within a
// drift interval, and refuses an unsigned commit, staying on the last good
// one.
func TestDaemonFollowsSignedCommits(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	p := startDaemon(t, "--repo", r.repo.Dir, "--branch", "main", "--allowed-signers", r.signers,
		"--drift-interval", "1s", "--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)
	if !roleExists(t, "dbuser_app") {
		t.Fatal("the initial spec was not applied")
	}

	// A signed commit adds a user: fsnotify sees the ref move at once (the
	// repository is polled only hourly).
	r.commit(withUsers(`{name: "dbuser_etl", login: true}`,
		`pg_hba_rules: [{user: "dbuser_etl", db: "all", addr: "127.0.0.0/8", auth: "ssl", title: "etl"}]`), "add dbuser_etl", true)
	// The role is created first, pg_hba.conf written after the SQL
	// changes of the same reconcile: wait for both.
	took := waitFor(t, 30*time.Second, "the signed commit to be applied", func() bool {
		hba, _ := os.ReadFile(cluster.Primary.HBAPath())
		return roleExists(t, "dbuser_etl") && bytes.Contains(hba, []byte("dbuser_etl"))
	})
	t.Logf("signed commit applied %s after the commit (fsnotify)", took)
	if took > 2*time.Second {
		t.Logf("note: slower than the 2 s target (busy machine?)")
	}

	// A manual ALTER ROLE is undone within a drift interval.
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "the manual change to be healed", func() bool { return connlimit(t, "dbuser_app") == "20" })

	// An unsigned commit is refused, counted, and nothing of it applied.
	before := p.metric("pgreconciler_verification_failures_total", `reason="unsigned"`)
	bad := r.commit(withUsers(`{name: "evil", superuser: true}`, ""), "sneaky unsigned change", false)
	waitFor(t, 30*time.Second, "the unsigned commit to be refused", func() bool {
		return p.metric("pgreconciler_verification_failures_total", `reason="unsigned"`) > before
	})
	time.Sleep(2 * time.Second) // a drift interval or two: the good commit stays in force
	if roleExists(t, "evil") {
		t.Fatal("the unsigned commit was applied")
	}
	if !strings.Contains(p.logs(), bad) {
		t.Error("the refusal does not name the commit")
	}
	if p.metric("pgreconciler_source_info", `signer="dba@example.com`) != 1 {
		t.Error("pgreconciler_source_info does not show the signer of the last good commit")
	}
	body := p.get(t, "/status")
	if !bytes.Contains(body, []byte(bad)) || !bytes.Contains(body, []byte(`"last_result": "success"`)) {
		t.Errorf("/status does not show the refusal and the last good result:\n%s", body)
	}
	metricsText := p.get(t, "/metrics")
	changeLog, err := cluster.Primary.LocalValue(context.Background(), "postgres", "SELECT string_agg(concat_ws('|', object, statement, error), E'\n') FROM pgreconciler.change_log")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(changeLog, "dbuser_app") {
		t.Fatalf("the change log shows no change of dbuser_app: the leak check would prove nothing:\n%s", changeLog)
	}
	for where, text := range map[string][]byte{"daemon log": []byte(p.logs()), "/status": body, "/metrics": metricsText, "change log": []byte(changeLog)} {
		if bytes.Contains(text, []byte("App.Secret.2026")) {
			t.Errorf("a password reached the %s", where)
		}
	}
}

// TestDaemonObserveMode reports a manual change in pgreconciler_drift_items
// and leaves it alone.
func TestDaemonObserveMode(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	// Converged first by `reconciler apply` of the same signed commit.
	if out, code := runCLI(t, "apply", "--repo", r.repo.Dir, "--allowed-signers", r.signers); code != 0 {
		t.Fatalf("reconciler apply: exit %d\n%s", code, out)
	}
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
		"--drift-interval", "1s", "--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "drift_items to report the change", func() bool {
		return p.metric("pgreconciler_drift_items", `cluster="pg-e2e"`, `instance="pg-e2e-1"`, `kind="user"`) == 1
	})
	time.Sleep(2 * time.Second)
	if connlimit(t, "dbuser_app") != "3" {
		t.Fatal("observe mode changed the cluster")
	}
}

// TestDaemonWebhook: a remote source is polled rarely; a forge webhook
// with a valid HMAC makes it fetch at once; a bad signature is refused.
func TestDaemonWebhook(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	bare := gitenv.NewBare(t)
	r.repo.Run("remote", "add", "origin", bare.Dir)
	r.repo.Push("origin", "main")
	secret := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secret, []byte("s3cret-hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startDaemon(t, "--repo", bare.URL(), "--allowed-signers", r.signers, "--drift-interval", "1s",
		"--poll-interval", "1h", "--state-dir", t.TempDir(), "--webhook-secret-file", secret)
	converged(t, p, 60*time.Second)

	r.commit(withUsers(`{name: "dbuser_hook"}`, ""), "add dbuser_hook", true)
	r.repo.Push("origin", "main")
	body := []byte(`{"ref":"refs/heads/main"}`)
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/hooks/github", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(strings.Repeat("0", 64)); code != http.StatusUnauthorized {
		t.Fatalf("a bad signature got %d", code)
	}
	time.Sleep(time.Second)
	if roleExists(t, "dbuser_hook") {
		t.Fatal("fetched without a valid webhook")
	}
	m := hmac.New(sha256.New, []byte("s3cret-hook"))
	m.Write(body)
	if code := post(hex.EncodeToString(m.Sum(nil))); code != http.StatusAccepted {
		t.Fatalf("a valid webhook got %d", code)
	}
	took := waitFor(t, 30*time.Second, "the pushed commit to be applied", func() bool { return roleExists(t, "dbuser_hook") })
	t.Logf("pushed commit applied %s after the webhook", took)
}

// TestDaemonPrimaryDown: a killed primary shows up 0 and the daemon
// recovers when it is back.
func TestDaemonPrimaryDown(t *testing.T) {
	_, p := convergedDaemon(t)
	// The harness runs with synchronous_commit off: without a checkpoint,
	// the kill could lose the commits that converged the cluster.
	cluster.Primary.MustLocal(t, "postgres", "CHECKPOINT")
	if err := cluster.Primary.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "instance_up 0", func() bool {
		return p.metric("pgreconciler_instance_up", `instance="pg-e2e-1"`) == 0
	})
	if p.metric("pgreconciler_instance_up", `instance="pg-e2e-2"`) != 1 {
		t.Error("the replica should stay up")
	}
	if err := cluster.Primary.Start(); err != nil {
		t.Fatal(err)
	}
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 120*time.Second, "recovery", func() bool {
		return p.metric("pgreconciler_instance_up", `instance="pg-e2e-1"`) == 1 && connlimit(t, "dbuser_app") == "20"
	})
}

// TestTwoDaemons: two daemons on one cluster never apply at the same time:
// every manual change is undone by exactly one of them.
func TestTwoDaemons(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	args := []string{"--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s", "--poll-interval", "1h"}
	a := startDaemon(t, append(args, "--state-dir", t.TempDir())...)
	b := startDaemon(t, append(args, "--state-dir", t.TempDir())...)
	converged(t, a, 60*time.Second)
	converged(t, b, 60*time.Second)
	// Four manual changes, not five: a daemon that heals an object five
	// times within an hour stops correcting it (the circuit breaker), and
	// one daemon may win every heal, which would leave the last change
	// below to a breaker that has tripped.
	for i := 0; i < maxCorrections-1; i++ {
		cluster.Primary.MustLocal(t, "postgres", fmt.Sprintf(`ALTER ROLE dbuser_app CONNECTION LIMIT %d`, 3+i))
		waitFor(t, 30*time.Second, "the change to be healed", func() bool { return connlimit(t, "dbuser_app") == "20" })
	}
	// Each heal is one applied change, by one daemon: the change log has
	// exactly one CONNECTION LIMIT 20 row per manual change (plus the one
	// of the first apply).
	n, err := cluster.Primary.LocalValue(context.Background(), "postgres",
		`SELECT count(*) FROM pgreconciler.change_log WHERE object = 'dbuser_app' AND statement LIKE '%CONNECTION LIMIT 20%' AND status = 'applied'`)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(maxCorrections); n != want {
		t.Errorf("%s applied CONNECTION LIMIT 20 changes, want %s (one per drift, none twice)", n, want)
	}
	overlap := regexp.MustCompile(`"msg":"another reconciler is applying`)
	t.Logf("busy reports: a=%d b=%d", len(overlap.FindAllString(a.logs(), -1)), len(overlap.FindAllString(b.logs(), -1)))

	// Deterministically: while someone else holds the apply lock, both
	// daemons report busy and neither touches the cluster; once it is
	// released, the drift is healed.
	release := cluster.Primary.HoldAdvisoryLock(t, apply.LockKey)
	busyA, busyB := a.metric("pgreconciler_reconcile_total", `result="busy"`), b.metric("pgreconciler_reconcile_total", `result="busy"`)
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 9`)
	waitFor(t, 30*time.Second, "both daemons to report busy", func() bool {
		return a.metric("pgreconciler_reconcile_total", `result="busy"`) > busyA && b.metric("pgreconciler_reconcile_total", `result="busy"`) > busyB
	})
	if got := connlimit(t, "dbuser_app"); got != "9" {
		t.Fatalf("connection limit %s while another session held the apply lock", got)
	}
	release()
	waitFor(t, 30*time.Second, "the change to be healed after the lock was released", func() bool { return connlimit(t, "dbuser_app") == "20" })
}

// TestDaemonReload: SIGHUP with an invalid configuration, or one naming a
// file that cannot be read, keeps the running one (and says why); a valid
// one takes effect: a key it adds makes a refused commit acceptable, and
// its modes apply (here: observe mode).
func TestDaemonReload(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	stateDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "reconciler.yml")
	write := func(mode, signers string) {
		cfg := fmt.Sprintf(`state_dir: %s
drift_interval: 1s
sources: [{name: fleet, url: %s, poll_interval: 1s}]
trust: {allowed_signers: %s}
modes: {user: %s}
`, stateDir, r.repo.Dir, signers, mode)
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("apply", r.signers)
	p := startDaemon(t, "--config", cfgFile)
	hup := func() {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	converged(t, p, 60*time.Second)

	write("heal", r.signers) // invalid: not apply or observe
	hup()
	waitFor(t, 30*time.Second, "the reload to be refused", func() bool {
		return strings.Contains(p.logs(), "the new configuration is invalid; keeping the running one") &&
			strings.Contains(p.logs(), "modes.user")
	})
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "the running (apply) configuration to heal the change", func() bool { return connlimit(t, "dbuser_app") == "20" })

	// A key file that is not there: refused by the configuration check,
	// before anything stops, naming the key's line.
	write("apply", filepath.Join(t.TempDir(), "missing"))
	hup()
	waitFor(t, 30*time.Second, "the reload to be refused", func() bool {
		return strings.Count(p.logs(), "the new configuration is invalid; keeping the running one") >= 2 &&
			strings.Contains(p.logs(), "reconciler.yml:4:26: trust.allowed_signers: stat ")
	})
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 4`)
	waitFor(t, 30*time.Second, "the daemon to keep healing", func() bool { return connlimit(t, "dbuser_app") == "20" })

	// A commit by a key not yet trusted is refused; the reload that trusts
	// it judges the commit again and applies it.
	bob := gitenv.NewSSHSigner(t, "ed25519", "bob@example.com")
	r.repo.WriteFile("fleet.cue", cluster.PigstySpec(withUsers(`{name: "dbuser_bob", password: "Bob.Secret.2026"}`, "")))
	r.repo.Commit("bob's user", bob)
	waitFor(t, 30*time.Second, "bob's commit to be refused", func() bool {
		return p.metric("pgreconciler_verification_failures_total", `reason="untrusted"`) >= 1
	})
	both := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(both, []byte(r.signer.AllowedSignersLine(`namespaces="git"`)+"\n"+bob.AllowedSignersLine(`namespaces="git"`)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("apply", both)
	hup()
	waitFor(t, 60*time.Second, "bob's commit to be applied after the reload", func() bool { return roleExists(t, "dbuser_bob") })

	write("observe", both)
	hup()
	waitFor(t, 30*time.Second, "the reload", func() bool { return strings.Count(p.logs(), "configuration reloaded") >= 2 })
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "drift to be observed", func() bool {
		return p.metric("pgreconciler_drift_items", `instance="pg-e2e-1"`, `kind="user"`) == 1
	})
	if connlimit(t, "dbuser_app") != "3" {
		t.Fatal("observe mode changed the cluster after the reload")
	}
}

// TestDaemonCircuitBreaker: something that keeps undoing the spec is
// fought maxCorrections times, then left alone (and reported) until the
// next commit.
func TestDaemonCircuitBreaker(t *testing.T) {
	r, p := convergedDaemon(t)
	for i := 0; i < maxCorrections; i++ {
		cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
		waitFor(t, 30*time.Second, "a correction", func() bool { return connlimit(t, "dbuser_app") == "20" })
	}
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "the breaker to report the object", func() bool {
		return strings.Contains(p.logs(), "circuit breaker") &&
			p.metric("pgreconciler_drift_items", `instance="pg-e2e-1"`, `kind="user"`) == 1
	})
	time.Sleep(3 * time.Second)
	if connlimit(t, "dbuser_app") != "3" {
		t.Fatal("the breaker did not stop the corrections")
	}
	if body := p.get(t, "/status"); !strings.Contains(string(body), `"pg-e2e-1 role dbuser_app"`) {
		t.Errorf("/status does not list the flapping object:\n%s", body)
	}
	// A new commit closes the breaker.
	r.commit(withUsers(`{name: "dbuser_new"}`, ""), "another change", true)
	waitFor(t, 30*time.Second, "the correction after a new commit", func() bool { return connlimit(t, "dbuser_app") == "20" })
}
