package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// fleetFS generates a spec repository of n clusters, each with two
// instances, users business users and rules HBA rules, one .cue file per
// cluster, as written by hand (plain data).
func fleetFS(n, users, rules int) fstest.MapFS {
	fsys := fstest.MapFS{"globals.cue": {Data: []byte(`package fleet

all: vars: {admin_ip: "10.10.10.10", pg_pwd_enc: "scram-sha-256"}
all: children: infra: hosts: "10.10.10.10": infra_seq: 1
`)}}
	for c := 0; c < n; c++ {
		var b strings.Builder
		name := fmt.Sprintf("pg-c%04d", c)
		fmt.Fprintf(&b, "package fleet\n\nall: children: %q: {\n\thosts: {\n", name)
		fmt.Fprintf(&b, "\t\t\"10.%d.%d.1\": {pg_seq: 1, pg_role: \"primary\"}\n", c/250, c%250)
		fmt.Fprintf(&b, "\t\t\"10.%d.%d.2\": {pg_seq: 2, pg_role: \"replica\"}\n\t}\n", c/250, c%250)
		fmt.Fprintf(&b, "\tvars: {\n\t\tpg_cluster: %q\n\t\tpg_users: [\n", name)
		for u := 0; u < users; u++ {
			fmt.Fprintf(&b, "\t\t\t{name: \"dbuser_%d\", password: \"SCRAM-SHA-256$4096:CvgVOUEYBQl95/kafN3ayg==$QOSugA2OXSatuVcLy2EVSCUQo9KLC9d5ndZ0eCVYsak=:vg2hnYbfMjQuXQ0WXoo7bK5dpEJNdXZLcRNhdX9HOf4=\", connlimit: 10, expire_in: 365, comment: \"service %d\", roles: [\"dbrole_readwrite\", {name: \"dbrole_admin\", admin: false}], parameters: {statement_timeout: \"30s\"}},\n", u, u)
		}
		b.WriteString("\t\t]\n\t\tpg_hba_rules: [\n")
		for r := 0; r < rules; r++ {
			fmt.Fprintf(&b, "\t\t\t{user: \"dbuser_%d\", db: \"all\", addr: \"10.%d.%d.0/24\", auth: \"ssl\", title: \"service %d\", order: %d},\n", r%users, 100+r, c%250, r, 800+r)
		}
		b.WriteString("\t\t]\n\t}\n}\n")
		fsys[name+".cue"] = &fstest.MapFile{Data: []byte(b.String())}
	}
	return fsys
}

// BenchmarkLoadFleet loads a 1,000-cluster repository (50 users and 20 HBA
// rules each): cold (a new Loader, nothing cached) and warm (the daemon's
// case: a Loader that has read the same files before).
func BenchmarkLoadFleet(b *testing.B) {
	fsys := fleetFS(1000, 50, 20)
	var size int
	for _, f := range fsys {
		size += len(f.Data)
	}
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		var peak uint64
		for i := 0; i < b.N; i++ {
			l := newTestLoader(b)
			res, err := l.Load(fsys, Options{Profile: "baseline"})
			if err != nil || res.Err() != nil {
				b.Fatal(err, res.Err())
			}
			peak = max(peak, heapInUse())
		}
		b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/cluster")
	})
	b.Run("warm", func(b *testing.B) {
		l := newTestLoader(b)
		if _, err := l.Load(fsys, Options{Profile: "baseline"}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := l.Load(fsys, Options{Profile: "baseline"})
			if err != nil || res.Err() != nil {
				b.Fatal(err, res.Err())
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/cluster")
	})
}

// fleetYAML generates one inventory YAML file of n clusters, like
// fleetFS's (two instances, users users and rules HBA rules each), written
// the way Pigsty's conf/*.yml are (flow mappings per user and rule).
func fleetYAML(n, users, rules int) []byte {
	var b strings.Builder
	b.WriteString("all:\n  vars: {admin_ip: 10.10.10.10}\n  children:\n    infra: {hosts: {10.10.10.10: {infra_seq: 1}}}\n")
	for c := 0; c < n; c++ {
		name := fmt.Sprintf("pg-c%04d", c)
		fmt.Fprintf(&b, "    %s:\n      hosts:\n        10.%d.%d.1: {pg_seq: 1, pg_role: primary}\n        10.%d.%d.2: {pg_seq: 2, pg_role: replica}\n", name, c/250, c%250, c/250, c%250)
		fmt.Fprintf(&b, "      vars:\n        pg_cluster: %s\n        pg_users:\n", name)
		for u := 0; u < users; u++ {
			fmt.Fprintf(&b, "          - {name: dbuser_%d, password: 'SCRAM-SHA-256$4096:CvgVOUEYBQl95/kafN3ayg==$QOSugA2OXSatuVcLy2EVSCUQo9KLC9d5ndZ0eCVYsak=:vg2hnYbfMjQuXQ0WXoo7bK5dpEJNdXZLcRNhdX9HOf4=', connlimit: 10, expire_in: 365, comment: 'service %d', roles: [dbrole_readwrite, {name: dbrole_admin, admin: false}], parameters: {statement_timeout: 30s}}\n", u, u)
		}
		b.WriteString("        pg_hba_rules:\n")
		for r := 0; r < rules; r++ {
			fmt.Fprintf(&b, "          - {user: dbuser_%d, db: all, addr: 10.%d.%d.0/24, auth: ssl, title: 'service %d', order: %d}\n", r%users, 100+r, c%250, r, 800+r)
		}
	}
	return []byte(b.String())
}

// BenchmarkLoadYAMLFile loads one 5 MiB inventory YAML file (280
// clusters), reporting the heap's peak during the load (sampled every
// millisecond) per byte of YAML.
func BenchmarkLoadYAMLFile(b *testing.B) {
	data := fleetYAML(280, 50, 20)
	fsys := fstest.MapFS{"pigsty.yml": {Data: data}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var peak uint64
	for i := 0; i < b.N; i++ {
		l := newTestLoader(b)
		runtime.GC()
		base := heapInUse()
		p := peakHeap(func() {
			res, err := l.Load(fsys, Options{Profile: "baseline"})
			if err != nil || res.Err() != nil {
				b.Fatal(err, res.Err())
			}
		})
		peak = max(peak, p-min(p, base))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak)/float64(len(data)), "peak-heap-B/B")
}

// peakHeap runs f and returns the most heap in use while it ran.
func peakHeap(f func()) uint64 {
	done := make(chan uint64)
	stop := make(chan struct{})
	go func() {
		var p uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			p = max(p, heapInUse())
			select {
			case <-stop:
				done <- p
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	return max(<-done, heapInUse())
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
