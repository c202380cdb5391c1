package spec

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// rolesSpec is the whole-process benchmark's workload (scripts/bench) as
// one file: one cluster whose pg_users declare groups group roles and
// logins login roles in five groups each, every attribute set; as a
// Pigsty YAML inventory or as CUE.
func rolesSpec(groups, logins int, cue bool) fstest.MapFS {
	var b strings.Builder
	q := func(s string) string {
		if cue {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	user := func(name string, login bool, connlimit int, comment string, parents []string) {
		for i := range parents {
			parents[i] = q(parents[i])
		}
		fmt.Fprintf(&b, "{name: %s, login: %t, superuser: false, createdb: false, createrole: false, inherit: true, replication: false, bypassrls: false, connlimit: %d, comment: %s, roles: [%s]}",
			q(name), login, connlimit, q(comment), strings.Join(parents, ", "))
	}
	each := func(f func(name string, login bool, connlimit int, comment string, parents []string)) {
		for g := 0; g < groups; g++ {
			f(fmt.Sprintf("grp_%04d", g), false, -1, fmt.Sprintf("group %d", g), nil)
		}
		for u := 0; u < logins; u++ {
			var p []string
			for k := 0; k < 5; k++ {
				p = append(p, fmt.Sprintf("grp_%04d", (u+k*17)%groups))
			}
			f(fmt.Sprintf("usr_%05d", u), true, 10, fmt.Sprintf("user %d", u), p)
		}
	}
	if cue {
		b.WriteString("package fleet\n\nall: vars: {admin_ip: \"127.0.0.1\"}\nall: children: infra: hosts: \"127.0.0.1\": infra_seq: 1\n")
		b.WriteString("all: children: \"pg-bench\": {\n\thosts: \"127.0.0.41\": {pg_seq: 1, pg_role: \"primary\"}\n\tvars: {\n\t\tpg_cluster: \"pg-bench\"\n\t\tpg_default_roles: []\n\t\tpg_default_privileges: []\n\t\tpg_users: [\n")
		each(func(name string, login bool, connlimit int, comment string, parents []string) {
			b.WriteString("\t\t\t")
			user(name, login, connlimit, comment, parents)
			b.WriteString(",\n")
		})
		b.WriteString("\t\t]\n\t}\n}\n")
		return fstest.MapFS{"fleet.cue": {Data: []byte(b.String())}}
	}
	b.WriteString("all:\n  vars: {admin_ip: 127.0.0.1}\n  children:\n    infra: {hosts: {127.0.0.1: {infra_seq: 1}}}\n")
	b.WriteString("    pg-bench:\n      hosts:\n        127.0.0.41: {pg_seq: 1, pg_role: primary}\n      vars:\n        pg_cluster: pg-bench\n        pg_default_roles: []\n        pg_default_privileges: []\n        pg_users:\n")
	each(func(name string, login bool, connlimit int, comment string, parents []string) {
		b.WriteString("          - ")
		user(name, login, connlimit, comment, parents)
		b.WriteString("\n")
	})
	return fstest.MapFS{"pigsty.yml": {Data: []byte(b.String())}}
}

// BenchmarkLoadRoles10k loads one cluster of 10,100 roles and 50,000
// memberships (the whole-process benchmark's 10k workload), YAML and CUE,
// with a new Loader each time as `reconciler validate` does.
func BenchmarkLoadRoles10k(b *testing.B) {
	for _, cue := range []bool{false, true} {
		name := "yaml"
		if cue {
			name = "cue"
		}
		fsys := rolesSpec(100, 10000, cue)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				l := newTestLoader(b)
				res, err := l.Load(fsys, Options{Profile: "baseline"})
				if err != nil || res.Err() != nil {
					b.Fatal(err, res.Err())
				}
				if n := len(res.Desired.Clusters[0].Roles); n < 10100 {
					b.Fatalf("%d roles", n)
				}
			}
		})
	}
}

// TestCacheKeepsSmallFiles: the loader's cache keeps the trees of files
// up to maxCachedFile, not the tree of one big inventory, which a daemon
// would otherwise hold between commits.
func TestCacheKeepsSmallFiles(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range []struct {
		fsys   fstest.MapFS
		cached int
	}{
		{rolesSpec(100, 10000, false), 0},
		{rolesSpec(10, 1000, false), 1},
		{rolesSpec(10, 1000, true), 1},
	} {
		res, err := l.Load(tc.fsys, Options{Profile: "baseline"})
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
		for name, f := range tc.fsys {
			if len(l.cache) != tc.cached {
				t.Errorf("%s of %d bytes: %d files cached, want %d", name, len(f.Data), len(l.cache), tc.cached)
			}
		}
	}
}

// BenchmarkReadYAML10k reads the 10k workload's pigsty.yml alone, serially
// and with its pg_users split in two parts (read_yamlsplit.go).
func BenchmarkReadYAML10k(b *testing.B) {
	data := rolesSpec(100, 10000, false)["pigsty.yml"].Data
	for _, bc := range []struct {
		name  string
		split splitting
	}{{"serial", splitting{}}, {"split2", splitting{minBytes: defaultSplit().minBytes, parts: 2}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, _, ok := fastYAMLSplit("pigsty.yml", data, nil, bc.split); !ok {
					b.Fatal("the fast reader gave up")
				}
			}
		})
	}
}
