package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
)

// TestCommitReplansOnlyChangedClusters: a commit that changes one
// cluster's file re-plans that cluster only; a cluster whose desired state
// is the same, and converged, is not reconciled for it (the drift timer is
// an hour here, so any reconcile of it would be the commit's), nor is its
// change log read. A commit that changes it then is applied.
func TestCommitReplansOnlyChangedClusters(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	shardedSpec(r, []string{"pg-s1"})
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1h",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)
	e2e := p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`)
	s1 := p.metric("pgreconciler_reconcile_total", `cluster="pg-s1"`)

	// Only pg-s1's file changes (its port).
	r.repo.WriteFile("more.cue", "package fleet\n\nall: children: \"pg-s1\": {hosts: {\"127.0.9.1\": {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: \"pg-s1\", pg_port: 10}}\n")
	commit := r.commit(daemonVars, "move pg-s1", true)
	waitFor(t, 60*time.Second, "pg-s1 to be reconciled for the commit", func() bool {
		st := p.status(t)
		return st.Sources[0].Commit == commit && p.metric("pgreconciler_reconcile_total", `cluster="pg-s1"`) > s1
	})
	time.Sleep(time.Second) // a reconcile of pg-e2e queued with pg-s1's would have ended by now
	if got := p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`); got != e2e {
		t.Errorf("pg-e2e reconciled %v times for a commit that does not change it", got-e2e)
	}
	if !strings.Contains(p.logs(), `"unchanged":1`) {
		t.Error(`the "new commit verified" line should count pg-e2e as unchanged`)
	}
	// Nor is its change log read for it (pg-s1's cannot be: nothing
	// listens there), so the commit finds no floor.
	for _, l := range strings.Split(p.logs(), "\n") {
		if strings.Contains(l, commit) && strings.Contains(l, "new commit verified") && !strings.Contains(l, `"change_log_floors":0`) {
			t.Errorf("the change log of unchanged pg-e2e was read for the commit: %s", l)
		}
	}

	// A commit that changes pg-e2e is applied.
	r.commit(withUsers(`{name: "dbuser_changed", password: "Changed.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "add dbuser_changed", true)
	waitFor(t, 60*time.Second, "the change to pg-e2e to be applied", func() bool { return roleExists(t, "dbuser_changed") })
}

// TestCommitLogsInOncePerPrimary: the change log a new commit is checked
// against is read on the session the apply of that commit then takes its
// lock, inspects and re-inspects the primary on (keptsessions.go,
// floorKeeper): a commit adding one role to pg-e2e opens 4 sessions, the
// change log read's on the primary, the writes' there, and the replica's
// inspections before and after the apply; with session_idle off it opens 5.
func TestCommitLogsInOncePerPrimary(t *testing.T) {
	for _, c := range []struct {
		idle           string
		opened, reused float64
	}{{"10m", 4, 1}, {"off", 5, 0}} {
		t.Run("session_idle="+c.idle, func(t *testing.T) {
			cluster.ResetForReconciler(t)
			r := newSignedRepo(t, daemonVars)
			p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1h",
				"--poll-interval", "1h", "--state-dir", t.TempDir(), "--session-idle", c.idle)
			converged(t, p, 60*time.Second)
			runs := p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`)
			opened, reused := p.metric("pgreconciler_sessions_opened_total"), p.metric("pgreconciler_sessions_reused_total")
			r.commit(withUsers(`{name: "dbuser_once", password: "Once.Secret.2026", roles: ["dbrole_readonly"]}`, ""), "add dbuser_once", true)
			waitFor(t, 60*time.Second, "the commit to be applied", func() bool {
				return p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`) > runs
			})
			if !roleExists(t, "dbuser_once") {
				t.Fatalf("the commit was not applied: %+v", p.status(t).Clusters)
			}
			gotOpened := p.metric("pgreconciler_sessions_opened_total") - opened
			gotReused := p.metric("pgreconciler_sessions_reused_total") - reused
			if gotOpened != c.opened || gotReused != c.reused {
				t.Errorf("the commit's change-log read and apply opened %v sessions and reused %v; want %v and %v", gotOpened, gotReused, c.opened, c.reused)
			}
		})
	}
}

// TestDriftChecksSpread: the drift timer queues a fleet's clusters over the
// interval, not all at its start. The real drift loop runs on a fleet of
// 60 clusters; when each arrives in the queue is recorded for one interval.
func TestDriftChecksSpread(t *testing.T) {
	const n, interval = 60, 600 * time.Millisecond
	names := fleetNames(n)
	d := &Daemon{log: slog.New(slog.DiscardHandler), now: time.Now, clusters: newClusterTable(), sources: map[string]*sourceState{}}
	st := &sourceState{name: "fleet", good: &revision{desired: desiredOf(names)}}
	d.sources["fleet"] = st
	g := &generation{cfg: &config.Config{DriftInterval: config.Duration(interval)}, queue: newWorkQueue()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	begin := time.Now()
	go d.driftLoop(ctx, g)
	var at []time.Duration
	for len(at) < n {
		popCtx, stop := context.WithTimeout(ctx, 3*interval)
		_, ok := g.queue.pop(popCtx)
		stop()
		if !ok {
			t.Fatalf("%d of %d clusters queued within three intervals", len(at), n)
		}
		at = append(at, time.Since(begin))
	}
	first, last := at[0], at[len(at)-1]
	if first < interval {
		t.Errorf("first drift check after %s, before the first interval (%s) ended", first, interval)
	}
	if spread := last - first; spread < interval/2 {
		t.Errorf("the %d drift checks were queued within %s of each other, want them spread over the %s interval", n, spread, interval)
	}
	// No tenth of the interval holds more than a quarter of the fleet.
	buckets := map[int]int{}
	for _, a := range at {
		buckets[int((a-interval)*10/interval)]++
	}
	for b, k := range buckets {
		if k > n/4 {
			t.Errorf("%d of %d drift checks in the same tenth (#%d) of the interval: a burst", k, n, b)
		}
	}
}

// silentServers listens on n loopback addresses, accepts connections and
// never answers (a PostgreSQL that hangs), and records the most
// connections open at once over all of them.
type silentServers struct {
	addrs []*net.TCPAddr
	mu    sync.Mutex
	open  int
	peak  int
}

func newSilentServers(t *testing.T, n int) *silentServers {
	s := &silentServers{}
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.9.%d:0", i+1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		s.addrs = append(s.addrs, l.Addr().(*net.TCPAddr))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				s.mu.Lock()
				s.open++
				s.mu.Unlock()
				// Counted a moment after the accept: the sessions the
				// client gave up on just before (two time out together
				// under a cap of two) are closed by then on this side
				// too, even on a busy machine.
				time.AfterFunc(100*time.Millisecond, func() {
					s.mu.Lock()
					s.peak = max(s.peak, s.open)
					s.mu.Unlock()
				})
				go func() {
					_, _ = io.Copy(io.Discard, c) // until the client gives up
					c.Close()
					s.mu.Lock()
					s.open--
					s.mu.Unlock()
				}()
			}
		}()
	}
	return s
}

func (s *silentServers) peakOpen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// TestMaxSessions: max_sessions caps the sessions open at once, whatever
// concurrency allows. Six clusters whose servers accept and never answer
// (each session hangs until the connect timeout) have their change logs
// read and are reconciled by six workers; with max_sessions 2 (what one
// reconcile of them needs: the lock's session and the instance's) no more
// than two connections are ever open to them. Without the cap, six are.
func TestMaxSessions(t *testing.T) {
	cluster.ResetForReconciler(t)
	srv := newSilentServers(t, 6)
	r := newSignedRepo(t, daemonVars)
	var b strings.Builder
	b.WriteString("package fleet\n\n")
	for i, a := range srv.addrs {
		fmt.Fprintf(&b, "all: children: \"pg-hang%d\": {hosts: {%q: {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: \"pg-hang%d\", pg_port: %d}}\n", i, a.IP.String(), i, a.Port)
	}
	r.repo.WriteFile("more.cue", b.String())
	r.commit(daemonVars, "hanging clusters", true)
	p := startDaemonEnv(t, []string{"PGCONNECT_TIMEOUT=1"}, "--repo", r.repo.Dir, "--allowed-signers", r.signers,
		"--drift-interval", "1h", "--poll-interval", "1h", "--state-dir", t.TempDir(), "--concurrency", "6", "--max-sessions", "2")
	waitFor(t, 60*time.Second, "every hanging cluster to be tried", func() bool {
		for i := range srv.addrs {
			if p.metric("pgreconciler_reconcile_total", fmt.Sprintf(`cluster="pg-hang%d"`, i)) <= 0 {
				return false
			}
		}
		return true
	})
	// One more than the cap: a session given up on is closed by the client
	// before this server's side has counted it closed, and the next one
	// may be accepted in between.
	if peak := srv.peakOpen(); peak < 1 || peak > 3 {
		t.Errorf("%d sessions open at once to the hanging servers, want at most 2 (max_sessions 2), 3 with a close not yet seen", peak)
	}
}

// TestSessionCap: slots are handed out first come, first served, a
// request larger than the cap takes the whole cap, and a waiter that gives
// up lets the next one in.
func TestSessionCap(t *testing.T) {
	c := newSessionCap(3)
	ctx := context.Background()
	r1, _ := c.acquire(ctx, 2)
	got := make(chan string, 3)
	go func() { r, _ := c.acquire(ctx, 10); got <- "big"; r() }() // clamped to 3: waits for r1
	time.Sleep(50 * time.Millisecond)
	// One slot is free, but the big request came first.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.acquire(short, 1); err == nil {
		t.Fatal("a later request overtook a waiting one")
	}
	r1()
	select {
	case <-got:
	case <-time.After(time.Second):
		t.Fatal("the big request never got the cap")
	}
	r2, err := c.acquire(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r2() // a second release is a no-op
	if c.used != 0 {
		t.Errorf("%d slots used after every release", c.used)
	}
	var none *sessionCap
	if r, err := none.acquire(ctx, 5); err != nil {
		t.Error(err)
	} else {
		r()
	}
}

// TestSessionCapEvictsKept: the slots of kept sessions (hold) go to a
// worker that needs them (evict, least recently used first in
// keptSessions), and nothing is kept while a worker waits.
func TestSessionCapEvictsKept(t *testing.T) {
	c := newSessionCap(2)
	var held []func()
	for range 2 {
		r, ok := c.hold()
		if !ok {
			t.Fatal("hold refused with no worker waiting")
		}
		held = append(held, r)
	}
	c.evict = func(n int) {
		for ; n > 0 && len(held) > 0; n-- {
			held[0]()
			held = held[1:]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, err := c.acquire(ctx, 2)
	if err != nil {
		t.Fatalf("a worker waited behind kept sessions: %v", err)
	}
	if len(held) != 0 {
		t.Errorf("%d kept sessions left, want both evicted", len(held))
	}
	waiting := make(chan struct{})
	go func() {
		r2, err := c.acquire(context.Background(), 1)
		if err == nil {
			r2()
		}
		close(waiting)
	}()
	for c.queued() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := c.hold(); ok {
		t.Error("a session was kept while a worker waited for slots")
	}
	r()
	<-waiting
	if c.used != 0 {
		t.Errorf("%d slots used after every release", c.used)
	}
}

// queued is the number of workers waiting for slots.
func (c *sessionCap) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting)
}
