package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
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

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
