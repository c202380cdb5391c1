package daemon

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// relays are TCP relays to the test cluster's servers, one per loopback
// address: each stands for a cluster of its own, so that a fleet runs on
// the two servers; each counts the sessions opened through it.
type relays struct {
	mu     sync.Mutex
	opened map[string]int // by cluster
}

// relayFleet declares n one-instance clusters pg-k0 … beside pg-e2e, on
// relays at 127.0.0.2 … (within the test certificate's names: n ≤ 8) to
// the primary and the replica in turn, and commits them.
func relayFleet(t *testing.T, r *signedRepo, n int) (*relays, string) {
	t.Helper()
	return relayFleetAt(t, r, n, func(i int) string { return fmt.Sprintf("127.0.0.%d", i+2) })
}

// relayFleetAt is relayFleet with cluster i's relay at addr(i).
func relayFleetAt(t *testing.T, r *signedRepo, n int, addr func(int) string) (*relays, string) {
	t.Helper()
	rl := &relays{opened: map[string]int{}}
	servers := cluster.Servers()
	var b strings.Builder
	b.WriteString("package fleet\n\n")
	for i := range n {
		name := fmt.Sprintf("pg-k%d", i)
		target := net.JoinHostPort(servers[i%len(servers)].Addr, strconv.Itoa(cluster.Port))
		port := rl.listen(t, name, net.JoinHostPort(addr(i), "0"), target)
		fmt.Fprintf(&b, "all: children: %q: {hosts: {%q: {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: %q, pg_port: %d, pg_users: [], pg_default_privileges: []}}\n",
			name, addr(i), name, port)
	}
	r.repo.WriteFile("more.cue", b.String())
	return rl, r.commit(daemonVars, "a fleet on relays", true)
}

// listen relays addr to target until the test ends; it returns the port.
func (rl *relays) listen(t *testing.T, name, addr, target string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			rl.mu.Lock()
			rl.opened[name]++
			rl.mu.Unlock()
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, s); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// total is the sessions every relay accepted.
func (rl *relays) total() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	n := 0
	for _, k := range rl.opened {
		n += k
	}
	return n
}

func (rl *relays) count(name string) int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.opened[name]
}

// fleetChecked waits until every cluster of the fleet has had at least
// n more successful reconciles than in before, and fails on a failed one.
func fleetChecked(t *testing.T, p *proc, names []string, before map[string]float64, n int) map[string]float64 {
	t.Helper()
	now := map[string]float64{}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d more drift checks of every cluster", n), func() bool {
		for _, c := range names {
			now[c] = p.metric("pgreconciler_reconcile_total", `cluster="`+c+`"`, `result="success"`)
			if now[c] < before[c]+float64(n) {
				return false
			}
		}
		return true
	})
	if f := p.metric("pgreconciler_reconcile_total", `result="failure"`); f > 0 {
		t.Fatalf("%v failed reconciles: %+v", f, p.status(t).Clusters)
	}
	return now
}

// keptOnServer are the daemon's sessions open on the primary's server, by
// application_name.
func keptOnServer(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	v := cluster.Primary.MustLocalValue(t, "postgres",
		`SELECT coalesce(string_agg(application_name, ' '), '') FROM pg_stat_activity WHERE application_name LIKE 'pgreconciler@%'`)
	for _, a := range strings.Fields(v) {
		out[a]++
	}
	return out
}

var fleetOf = []string{"pg-e2e", "pg-k0", "pg-k1", "pg-k2"}

// TestDriftChecksReuseSessions: in observe mode, drift checks of a fleet
// (pg-e2e's two instances and three one-instance clusters behind relays) read
// every instance on the session the previous check kept: over five more
// checks of every cluster the daemon opens no session and reuses one per
// instance per check, and each relay saw one session: the change log was
// read for the commit on it, and it was kept for the checks. A new commit makes
// the next checks open sessions carrying it; a session ended on the server
// between checks is replaced without a failed check.
func TestDriftChecksReuseSessions(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	rl, _ := relayFleet(t, r, 3)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
		"--drift-interval", "1s", "--poll-interval", "1h", "--state-dir", t.TempDir())
	seen := fleetChecked(t, p, fleetOf, nil, 2)
	opened, reused := p.metric("pgreconciler_sessions_opened_total"), p.metric("pgreconciler_sessions_reused_total")
	seen = fleetChecked(t, p, fleetOf, seen, 5)
	if got := p.metric("pgreconciler_sessions_opened_total"); got != opened {
		t.Errorf("five drift checks of the fleet opened %v sessions, want 0 (every one reused)", got-opened)
	}
	if got := p.metric("pgreconciler_sessions_reused_total") - reused; got < 5*5 {
		t.Errorf("five drift checks of 5 instances reused %v sessions, want at least 25", got)
	}
	if k := p.metric("pgreconciler_sessions_kept"); k < 1 || k > 5 {
		t.Errorf("pgreconciler_sessions_kept %v, want 1 to 5", k)
	}
	for _, c := range fleetOf[1:] {
		if n := rl.count(c); n != 1 {
			t.Errorf("%s: %d sessions through its relay over 7+ checks, want 1 (the change log read's, kept)", c, n)
		}
	}

	// A new commit: the next checks open sessions carrying it, and close
	// the ones of the old commit.
	commit := r.commit(withUsers(`{name: "dbuser_more", password: "More.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "one more user", true)
	app := "pgreconciler@" + model.ShortHash(commit)
	var k map[string]int
	waitFor(t, 60*time.Second, "the kept sessions to carry the new commit", func() bool {
		k = keptOnServer(t)
		return len(k) == 1 && k[app] > 0
	})
	for _, c := range fleetOf[1:] {
		if n := rl.count(c); n < 2 {
			t.Errorf("%s: %d sessions through its relay after a new commit, want a new one", c, n)
		}
	}

	// Every kept session ended on the server: the next checks open new
	// ones and fail none. Only sessions idle for a while are ended, over
	// a little more than one drift interval: those are the kept ones
	// between checks; ending a session in the middle of an inspection
	// fails that check, kept or new, which is not what this tests.
	seen = fleetChecked(t, p, fleetOf, seen, 1)
	opened = p.metric("pgreconciler_sessions_opened_total")
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		for _, s := range cluster.Servers() {
			s.MustLocal(t, "postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name LIKE 'pgreconciler@%' AND state = 'idle' AND state_change < now() - interval '300 ms'`)
		}
	}
	fleetChecked(t, p, fleetOf, seen, 2) // fails on a failed reconcile
	if got := p.metric("pgreconciler_sessions_opened_total") - opened; got < 5 {
		t.Errorf("after every session was ended, the checks opened %v sessions, want at least 5", got)
	}
	if f := p.metric("pgreconciler_instance_up", `cluster="pg-e2e"`); f != 2 {
		t.Errorf("pg-e2e: %v instances up after its sessions were ended, want 2", f)
	}
}

// TestKeptSessionsExpire: a kept session unused for session_idle is
// closed. With an hour between drift checks, the sessions the first
// check kept are gone from the server soon after session_idle (2s).
func TestKeptSessionsExpire(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	relayFleet(t, r, 1)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
		"--drift-interval", "1h", "--poll-interval", "1h", "--state-dir", t.TempDir(), "--session-idle", "2s")
	fleetChecked(t, p, fleetOf[:2], nil, 1)
	if k := p.metric("pgreconciler_sessions_kept"); k < 1 {
		t.Fatalf("pgreconciler_sessions_kept %v after the first check, want some", k)
	}
	took := waitFor(t, 30*time.Second, "the kept sessions to be closed", func() bool {
		return p.metric("pgreconciler_sessions_kept") == 0 && len(keptOnServer(t)) == 0
	})
	t.Logf("closed %s after the check", took)
}

// TestKeptSessionsEvicted: kept sessions count against max_sessions, and
// a reconcile that needs their slots has them closed instead of waiting.
// max_sessions 2 is what one reconcile of pg-e2e takes (the cap); the
// fleet's five instances would keep five. Every cluster goes on being
// checked, and no more than two sessions are ever kept.
func TestKeptSessionsEvicted(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	relayFleet(t, r, 3)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
		"--drift-interval", "1s", "--poll-interval", "1h", "--state-dir", t.TempDir(), "--max-sessions", "2", "--concurrency", "4")
	stop := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		m := 0.0
		for {
			select {
			case <-stop:
				peak <- m
				return
			case <-time.After(20 * time.Millisecond):
				m = max(m, p.metric("pgreconciler_sessions_kept"))
			}
		}
	}()
	fleetChecked(t, p, fleetOf, fleetChecked(t, p, fleetOf, nil, 1), 3)
	close(stop)
	if m := <-peak; m > 2 {
		t.Errorf("%v sessions kept at once, want at most 2 (max_sessions)", m)
	}
}

// TestKeptSessionsFleetCount measures what BENCHMARKS.md states: the
// sessions a fleet of PGRECONCILER_SESSION_FLEET one-instance clusters
// (behind relays, at 127.0.10.x, TLS unverified) opens over ten drift
// checks of every cluster in observe mode, with session_idle off and on.
// Not run otherwise: it takes a minute.
func TestKeptSessionsFleetCount(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PGRECONCILER_SESSION_FLEET"))
	if n <= 0 {
		t.Skip("set PGRECONCILER_SESSION_FLEET=100 to measure")
	}
	for _, idle := range []string{"off", "10m"} {
		cluster.ResetForReconciler(t)
		r := newSignedRepo(t, daemonVars)
		rl, _ := relayFleetAt(t, r, n, func(i int) string { return fmt.Sprintf("127.0.%d.%d", 10+i/250, i%250+1) })
		names := []string{"pg-e2e"}
		for i := range n {
			names = append(names, fmt.Sprintf("pg-k%d", i))
		}
		start := time.Now()
		p := startDaemonEnv(t, []string{"PGSSLMODE=require"}, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
			"--drift-interval", "2s", "--poll-interval", "1h", "--state-dir", t.TempDir(), "--concurrency", "8", "--session-idle", idle)
		waitFor(t, 5*time.Minute, "ten drift checks of every cluster", func() bool {
			for _, c := range names {
				if p.metric("pgreconciler_reconcile_total", `cluster="`+c+`"`, `result="success"`) < 10 {
					return false
				}
			}
			return true
		})
		relayed := 0
		for i := range n {
			relayed += rl.count(fmt.Sprintf("pg-k%d", i))
		}
		t.Logf("session_idle %s: %d clusters × 10 checks in %s: %d sessions through the relays, opened_total %v, reused_total %v, failures %v",
			idle, n, time.Since(start).Round(time.Second), relayed, p.metric("pgreconciler_sessions_opened_total"),
			p.metric("pgreconciler_sessions_reused_total"), p.metric("pgreconciler_reconcile_total", `result="failure"`))
		p.stop()
	}
}

// keptPIDs are the backends of the daemon's sessions on the primary.
func keptPIDs(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	v := cluster.Primary.MustLocalValue(t, "postgres",
		`SELECT coalesce(string_agg(pid::text, ' '), '') FROM pg_stat_activity WHERE application_name LIKE 'pgreconciler@%'`)
	for _, pid := range strings.Fields(v) {
		out[pid] = true
	}
	return out
}

// TestKeptSessionsClosedOnReload: a reload (here a new connect_timeout)
// starts a generation with sessions of its own; the old generation's kept
// sessions are closed, not reused under settings they were not made with.
func TestKeptSessionsClosedOnReload(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	cfgFile := filepath.Join(t.TempDir(), "reconciler.yml")
	stateDir := t.TempDir()
	write := func(timeout string) {
		cfg := fmt.Sprintf(`state_dir: %s
drift_interval: 1s
sources: [{name: fleet, url: %s, poll_interval: 1h}]
trust: {allowed_signers: %s}
modes: {user: observe, database: observe, privilege: observe, parameter: observe, hba: observe}
connection: {connect_timeout: %s}
`, stateDir, r.repo.Dir, r.signers, timeout)
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10s")
	p := startDaemon(t, "--config", cfgFile)
	fleetChecked(t, p, fleetOf[:1], nil, 2)
	before := keptPIDs(t)
	if len(before) == 0 {
		t.Fatal("no session kept on the primary")
	}
	write("7s")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload", func() bool { return strings.Contains(p.logs(), "configuration reloaded") })
	waitFor(t, 30*time.Second, "the sessions kept before the reload to be closed, and new ones kept", func() bool {
		now := keptPIDs(t)
		for pid := range now {
			if before[pid] {
				return false
			}
		}
		return len(now) > 0
	})
	// Closed and counted, not left to the garbage collector (which
	// closes a forgotten socket some time later): at most pg-e2e's two
	// instances are kept (fewer while a check has them).
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if k := p.metric("pgreconciler_sessions_kept"); k > 2 {
			t.Fatalf("pgreconciler_sessions_kept %v after the reload, want at most 2", k)
		}
	}
}

// TestKeptSessionsForgotten: the session kept for a cluster that leaves
// the spec is closed with it. With an hour between checks, pg-e2e
// (unchanged by the commit, so not re-planned) keeps its two; pg-k0's
// goes.
func TestKeptSessionsForgotten(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	relayFleet(t, r, 1)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--mode", "observe",
		"--drift-interval", "1h", "--poll-interval", "1h", "--state-dir", t.TempDir())
	fleetChecked(t, p, fleetOf[:2], nil, 1)
	waitFor(t, 10*time.Second, "three sessions kept", func() bool { return p.metric("pgreconciler_sessions_kept") == 3 })
	r.repo.WriteFile("more.cue", "package fleet\n")
	r.commit(daemonVars, "pg-k0 leaves", true)
	waitFor(t, 30*time.Second, "pg-k0 to leave", func() bool { return strings.Contains(p.logs(), "cluster left the spec") })
	waitFor(t, 10*time.Second, "pg-k0's session to be closed", func() bool { return p.metric("pgreconciler_sessions_kept") == 2 })
}
