//go:build fleetbench

package daemon

// `make bench-fleet`: the daemon against a fleet of 10, 100 and 1,000
// clusters on real PostgreSQL servers (BENCHMARKS.md, "Fleet"). Not part
// of `make test` (build tag fleetbench).
//
// A 2-core machine cannot run a thousand servers: FLEETBENCH_SERVERS
// servers (default 10) each serve many clusters. Every cluster has an
// address of its own (127.0.20.0/22 onwards, the server's port) where a
// relay of this process forwards to its server, so the daemon opens
// real sessions to distinct addresses, as against a real fleet. The
// relays' cost is this process's, not the daemon's. TLS goes through
// the relays (sslmode=require: the certificate names the server's own
// address). Clusters that share a server share its apply lock (one per
// primary), so the drift cycle is measured in observe mode (a plan takes no
// lock) and the commit-to-applied time in apply mode for users only.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func clusterAddr(i int) string { return fmt.Sprintf("127.0.%d.%d", 20+i/250, i%250+1) }

// portOf is cluster i's server port: cluster 0, the one the measured
// commit touches, has a server of its own (the last), so that clusters
// sharing a server's apply lock do not make its apply wait as "busy"
// (a real fleet's clusters do not share servers); the others are spread
// over the rest.
func portOf(i int, ports []int) int {
	if i == 0 {
		return ports[len(ports)-1]
	}
	return ports[i%(len(ports)-1)]
}

func fleetSpec(n int, ports []int, extraUser int) string {
	var b strings.Builder
	b.WriteString("package fleet\n\nall: vars: {admin_ip: \"127.0.0.1\", node_firewall_intranet: [\"127.0.0.0/8\"]}\n")
	b.WriteString("all: children: infra: hosts: \"127.0.0.1\": infra_seq: 1\n")
	for i := 0; i < n; i++ {
		users := fmt.Sprintf(`{name: "dbuser_c%04d", password: "C%04d.Secret.2026", roles: ["dbrole_readonly"]}`, i, i)
		if i == extraUser {
			users += fmt.Sprintf(`, {name: "dbuser_new%04d", password: "N%04d.Secret.2026", roles: ["dbrole_readonly"]}`, i, i)
		}
		fmt.Fprintf(&b, "all: children: \"pg-c%04d\": {hosts: {%q: {pg_seq: 1, pg_role: \"primary\"}}, vars: {pg_cluster: \"pg-c%04d\", pg_port: %d, pg_users: [%s], pg_default_privileges: []}}\n",
			i, clusterAddr(i), i, portOf(i, ports), users)
	}
	return b.String()
}

// procStat is the daemon's CPU time (user+system) and resident memory.
func procStat(t *testing.T, pid int) (cpu time.Duration, rss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
	s, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			rss = kb << 10
		}
	}
	return cpu, rss
}

// reconciledAll waits until every cluster has a reconcile of the result
// counted since before.
func reconciledAll(t *testing.T, p *proc, n int, before map[string]float64, timeout time.Duration) time.Duration {
	t.Helper()
	if s := os.Getenv("FLEETBENCH_TIMEOUT"); s != "" {
		timeout, _ = time.ParseDuration(s)
	}
	start := time.Now()
	for time.Since(start) < timeout {
		if countReconciled(p, before) >= n {
			return time.Since(start)
		}
		time.Sleep(pollFor(n))
	}
	logs := p.logs()
	fmt.Printf("%d of %d clusters reconciled after %s; the daemon's log ends:\n%s\n", countReconciled(p, before), n, timeout, logs[max(0, len(logs)-8000):])
	t.Fatalf("timed out after %s waiting for every cluster reconciled", timeout)
	return 0
}

// pollFor is how often the harness scrapes the daemon's /metrics while it
// waits on n clusters: a 1,000-cluster scrape costs the daemon about 100 ms
// of CPU (the profiles of FLEETBENCH_PROFILE showed scrapes every 250 ms
// taking most of its CPU), so 1 ms per cluster, at least 250 ms.
func pollFor(n int) time.Duration {
	return max(250*time.Millisecond, time.Duration(n)*time.Millisecond)
}

// countReconciled counts the clusters whose reconcile_total grew since
// before (nil: is above 0).
func countReconciled(p *proc, before map[string]float64) int {
	m := reconcileTotals(p, "")
	k := 0
	for c, v := range m {
		if v > before[c] {
			k++
		}
	}
	return k
}

// reconcileTotals is reconcile_total per cluster, of one result ("": all).
func reconcileTotals(p *proc, result string) map[string]float64 {
	resp, err := httpGet("http://" + p.addr + "/metrics")
	out := map[string]float64{}
	if err != nil {
		return out
	}
	for _, l := range strings.Split(resp, "\n") {
		if !strings.HasPrefix(l, "pgreconciler_reconcile_total{") {
			continue
		}
		if result != "" && !strings.Contains(l, `result="`+result+`"`) {
			continue
		}
		i := strings.Index(l, `cluster="`)
		if i < 0 {
			continue
		}
		c := l[i+9:]
		c = c[:strings.IndexByte(c, '"')]
		v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		out[c] += v
	}
	return out
}

func TestFleetBench(t *testing.T) {
	sizes := []int{10, 100, 1000}
	if s := os.Getenv("FLEETBENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Fields(s) {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	concs := []int{8, 32}
	if s := os.Getenv("FLEETBENCH_CONCURRENCY"); s != "" {
		concs = nil
		for _, f := range strings.Fields(s) {
			c, _ := strconv.Atoi(f)
			concs = append(concs, c)
		}
	}
	nServers := 10
	if s := os.Getenv("FLEETBENCH_SERVERS"); s != "" {
		nServers, _ = strconv.Atoi(s)
	}
	var servers []*testenv.Cluster
	var ports []int
	for i := 0; i <= nServers; i++ { // the last: cluster 0's own
		// Each server holds the sessions kept between drift checks of all
		// its clusters (a real fleet's server holds its own one): 250 of
		// them for 1,000 clusters on 4 servers, beside the applies'.
		c, err := testenv.StartCluster(testenv.Options{Name: fmt.Sprintf("pg-fb%d", i), Replicas: -1, BaseIP: 150 + i,
			ExtraConf: map[string]string{"max_connections": "500", "log_statement": "none", "log_min_duration_statement": "-1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_dba PASSWORD 'Fleet.Bench.2026'`)
		servers = append(servers, c)
		ports = append(ports, c.Port)
	}
	t.Setenv("PGUSER", "dbuser_dba")
	t.Setenv("PGPASSWORD", "Fleet.Bench.2026")
	t.Setenv("PGSSLMODE", "require")
	fw := &relays{opened: map[string]int{}} // keptsessions_test.go
	maxN := 0
	for _, n := range sizes {
		maxN = max(maxN, n)
	}
	byPort := map[int]*testenv.Cluster{}
	for _, c := range servers {
		byPort[c.Port] = c
	}
	for i := 0; i < maxN; i++ {
		port := portOf(i, ports)
		fw.listen(t, clusterAddr(i), net.JoinHostPort(clusterAddr(i), strconv.Itoa(port)),
			net.JoinHostPort(byPort[port].Primary.Addr, strconv.Itoa(port)))
	}
	// Built before any clock starts: the first startDaemon would build it
	// inside the measured cycle (the first figures, 23 s for 10 clusters,
	// were mostly `go build` on a loaded machine).
	reconcilerBin(t)

	fmt.Printf("fleet benchmark: PostgreSQL %s, %d servers, %d CPUs, %s\n", servers[0].Version, nServers, runtime.NumCPU(), time.Now().UTC().Format(time.DateOnly))
	fmt.Printf("| clusters | concurrency | first cycle | per cluster | connections | CPU | RSS | drift cycle | connections/cycle | CPU/cycle | RSS steady | commit→applied |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	// FLEETBENCH_PROFILE=DIR: a CPU profile of the daemon over each steady
	// drift cycle, DIR/cpu-<clusters>-<concurrency>.pprof.
	profDir := os.Getenv("FLEETBENCH_PROFILE")
	// One repository for every run: each run's fleet is a new commit on
	// top, so the commit the servers' change logs last saw is an ancestor
	// (a new repository would be refused as a rewind).
	r := newSignedRepo(t, "")
	for _, n := range sizes {
		for ci, conc := range concs {
			r.repo.WriteFile("fleet.cue", fleetSpec(n, ports, -1))
			r.repo.Commit(fmt.Sprintf("fleet of %d, concurrency %d", n, conc), r.signer)
			dir := t.TempDir()
			cfg := filepath.Join(dir, "reconciler.yml")
			writeCfg := func(modes string, drift time.Duration) {
				if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: "127.0.0.1:0"
state_dir: %s
drift_interval: %s
concurrency: %d
sources: [{name: fleet, url: %s, poll_interval: 1h}]
trust: {allowed_signers: %s}
modes: %s
pprof: %v
`, filepath.Join(dir, "state"), drift, conc, r.repo.Dir, r.signers, modes, profDir != "")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// The first cycle, observe mode: daemon start, the commit
			// verified, every cluster's change log read and every cluster
			// inspected and planned, as fast as the workers go.
			observe := "{user: observe, database: observe, privilege: observe, parameter: observe, hba: observe}"
			drift := driftIntervalOf(n)
			writeCfg(observe, drift)
			opened0, byCluster0 := fw.total(), fw.snapshot()
			start := time.Now()
			p := startDaemon(t, "--config", cfg)
			pid := p.cmd.Process.Pid
			reconciledAll(t, p, n, nil, 30*time.Minute)
			cycle := time.Since(start)
			cpu, rss := procStat(t, pid)
			conns := fw.total() - opened0
			if conns > n {
				explainExtraSessions(p, fw, byCluster0, conns, n)
			}

			// A steady drift cycle: no new commit, every cluster checked
			// once more, spread over the drift interval. The first drift
			// tick comes an interval after the start, so the first round
			// of drift checks is waited for, and the next one measured.
			reconciledAll(t, p, n, reconcileTotals(p, ""), 30*time.Minute)
			before := reconcileTotals(p, "")
			opened1 := fw.total()
			cpu1, _ := procStat(t, pid)
			profiled := profileCPU(t, p, profDir, fmt.Sprintf("cpu-%d-%d.pprof", n, conc), drift)
			steadyStart := time.Now()
			time.Sleep(drift * 9 / 10) // no scrapes while most of the round runs
			reconciledAll(t, p, n, before, 30*time.Minute)
			steady := time.Since(steadyStart)
			<-profiled
			cpu2, rss2 := procStat(t, pid)
			steadyConns := fw.total() - opened1
			if os.Getenv("FLEETBENCH_LOGS") != "" {
				fmt.Printf("daemon started %s\n%s\n", start.UTC().Format(time.RFC3339Nano), p.logs())
			}
			p.stop()

			// Commit to applied, apply mode for users: converge, then one
			// cluster's file changes.
			applied := "—"
			if ci == 0 {
				// Clusters that share a server share its apply lock: the
				// first cycle finds most of them busy, and they are tried
				// again (retry.go) until every one has converged, so that
				// the measured commit re-plans only the cluster it changes.
				writeCfg("{user: apply, database: observe, privilege: observe, parameter: observe, hba: observe}", time.Hour)
				p = startDaemon(t, "--config", cfg)
				succeededAll(t, p, n, 30*time.Minute)
				time.Sleep(time.Second)
				r.repo.WriteFile("fleet.cue", fleetSpec(n, ports, 0))
				at := time.Now()
				r.repo.Commit("one more user", r.signer)
				srv := servers[nServers].Primary
				ok := false
				for time.Since(at) < 2*time.Minute && !ok {
					v, _ := srv.LocalValue(context.Background(), "postgres", fmt.Sprintf("SELECT count(*) FROM pg_roles WHERE rolname = 'dbuser_new%04d'", 0))
					ok = v == "1"
					time.Sleep(20 * time.Millisecond)
				}
				if !ok {
					printWarnings(p.logs(), "commit")
				}
				applied = time.Since(at).Round(10 * time.Millisecond).String()
				for _, l := range strings.Split(p.logs(), "\n") {
					if strings.Contains(l, "new commit verified") && strings.Contains(l, `"unchanged"`) {
						fmt.Println("commit:", l[strings.Index(l, `"clusters"`):]) // how many it re-planned
					}
				}
				if !ok {
					applied = "not applied in 2 min"
				}
				p.stop()
			}
			fmt.Printf("| %d | %d | %s | %s | %d | %s | %.0f MiB | %s (interval %s) | %d | %s | %.0f MiB | %s |\n", n, conc, cycle.Round(10*time.Millisecond),
				(cycle / time.Duration(n)).Round(10*time.Microsecond), conns, cpu, float64(rss)/(1<<20),
				steady.Round(10*time.Millisecond), drift, steadyConns, cpu2-cpu1, float64(rss2)/(1<<20), applied)
		}
	}
}

// driftIntervalOf is the drift interval of the steady cycle for n
// clusters: 60 ms per cluster (a 1,000-cluster fleet checked each minute),
// at least 5 s.
func driftIntervalOf(n int) time.Duration {
	return max(5*time.Second, time.Duration(n)*60*time.Millisecond)
}

// profileCPU fetches a CPU profile of the daemon over d into dir/name, in
// the background; the channel closes when it is written (at once when dir
// is "").
func profileCPU(t *testing.T, p *proc, dir, name string, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if dir == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		body, err := httpGet(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, int(d.Seconds())))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
		}
		if err != nil {
			fmt.Printf("profile %s: %v\n", name, err)
		}
	}()
	return done
}

// succeededAll waits until every cluster has had a successful reconcile.
func succeededAll(t *testing.T, p *proc, n int, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		k := 0
		for _, v := range reconcileTotals(p, "success") {
			if v > 0 {
				k++
			}
		}
		if k >= n {
			return
		}
		time.Sleep(pollFor(n))
	}
	t.Fatalf("timed out after %s waiting for every cluster to converge", timeout)
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// explainExtraSessions prints, when a first cycle opened more sessions than
// the fleet has clusters, how many of them the daemon itself counted as
// logins, which clusters had more than one, how many clusters the
// periodic compliance audit (first 30 s after the start, audit.go) had
// judged by then — a session and a TLS probe of the certificate each —,
// and the daemon's warnings.
func explainExtraSessions(p *proc, fw *relays, before map[string]int, conns, n int) {
	var several []string
	for name, k := range fw.snapshot() {
		if k-before[name] > 1 {
			several = append(several, fmt.Sprintf("%s×%d", name, k-before[name]))
		}
	}
	slices.Sort(several)
	logs := p.logs()
	fmt.Printf("first cycle: %d sessions through the relays for %d clusters; the daemon counted %v logins and %v reuses; %d clusters had more than one (%s); %d clusters audited\n",
		conns, n, p.metric("pgreconciler_sessions_opened_total"), p.metric("pgreconciler_sessions_reused_total"),
		len(several), strings.Join(several[:min(len(several), 5)], " "), strings.Count(logs, `"msg":"audited"`))
	printWarnings(logs, "")
}

// printWarnings prints the daemon's warnings and errors, and the lines
// that contain also (when set), each cut at 400 bytes.
func printWarnings(logs, also string) {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") || (also != "" && strings.Contains(l, also)) {
			fmt.Println(l[:min(len(l), 400)])
		}
	}
}

// snapshot is the sessions each relay has accepted so far.
func (rl *relays) snapshot() map[string]int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return maps.Clone(rl.opened)
}
