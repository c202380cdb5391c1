package spec

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

func loadYAML(t *testing.T, src string) *Result {
	t.Helper()
	res, err := newTestLoader(t).Load(fstest.MapFS{"pigsty.yml": {Data: []byte(src)}}, Options{Profile: "none"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustLoadYAML(t *testing.T, src string) *model.Desired {
	t.Helper()
	res := loadYAML(t, src)
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	return res.Desired
}

func param(in *model.Instance, name string) string {
	for _, p := range in.Parameters {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Ansible's precedence, per host and per variable: host vars > group vars
// > all.vars > Pigsty's defaults, for every variable pgreconciler reads.
func TestPrecedenceHostGroupGlobal(t *testing.T) {
	d := mustLoadYAML(t, `
all:
  vars:
    pg_port: 6000
    pg_parameters: {work_mem: 1MB}
    pg_hba_rules: [{user: all, db: all, addr: 10.9.0.0/16, title: global}]
    pg_users: [{name: from_globals}]
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary, pg_port: 7000, pg_users: [{name: from_primary}]}
        10.0.0.2: {pg_seq: 2, pg_role: replica, pg_parameters: {work_mem: 3MB}, pg_offline_query: true,
                   pg_hba_rules: [{user: all, db: all, addr: 10.7.0.0/16, title: host}]}
        10.0.0.3: {pg_seq: 3, pg_role: replica, pg_cluster: pg-b}
      vars:
        pg_cluster: pg-a
        pg_parameters: {work_mem: 2MB}
    pg-b:
      hosts:
        10.0.1.1: {pg_seq: 1, pg_role: primary}
      vars: {pg_cluster: pg-b}
`)
	a, b := d.Cluster("pg-a"), d.Cluster("pg-b")
	if a == nil || b == nil || len(a.Instances) != 2 || len(b.Instances) != 2 {
		t.Fatalf("clusters: %+v", d.Clusters)
	}
	p1, r2 := a.Instance("10.0.0.1"), a.Instance("10.0.0.2")
	if p1.Port != 7000 || r2.Port != 6000 || b.Instance("10.0.1.1").Port != 6000 {
		t.Errorf("pg_port: host 7000 / global 6000, got %d, %d", p1.Port, r2.Port)
	}
	if param(p1, "work_mem") != "2MB" || param(r2, "work_mem") != "3MB" || param(b.Instance("10.0.1.1"), "work_mem") != "1MB" {
		t.Errorf("pg_parameters: group 2MB, host 3MB, global 1MB; got %s, %s", param(p1, "work_mem"), param(r2, "work_mem"))
	}
	if !r2.OfflineQuery || p1.OfflineQuery {
		t.Error("pg_offline_query: only the host that sets it")
	}
	titles := func(in *model.Instance) string {
		var out []string
		for _, r := range in.HBA {
			if !r.Default {
				out = append(out, r.Title)
			}
		}
		return strings.Join(out, ",")
	}
	if titles(p1) != "global" || titles(r2) != "host" {
		t.Errorf("pg_hba_rules: primary %q, replica %q", titles(p1), titles(r2))
	}
	if a.Role("from_primary") == nil || a.Role("from_globals") != nil || b.Role("from_globals") == nil {
		t.Error("pg_users: the primary's host var wins in pg-a, the global one in pg-b")
	}
	if b.Instance("10.0.0.3") == nil || b.Instance("10.0.0.3").Cluster != "pg-b" {
		t.Error("a host's pg_cluster puts it in that cluster, whatever group lists it")
	}
}

// A host listed in several groups gets the variables of all of them, in
// Ansible's order: deeper groups win, then higher ansible_group_priority,
// then the name that sorts later.
func TestPrecedenceBetweenGroups(t *testing.T) {
	d := mustLoadYAML(t, `
all:
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_seq: 2, pg_role: replica}
        10.0.0.3: {pg_seq: 3, pg_role: replica}
      vars: {pg_cluster: pg-a, pg_parameters: {work_mem: a}}
    zz-big:
      hosts: {10.0.0.2: }
      vars: {pg_parameters: {work_mem: zz}}
    aa-first:
      vars: {pg_parameters: {work_mem: aa}, ansible_group_priority: 10}
      hosts: {10.0.0.3: }
    parent:
      vars: {pg_parameters: {work_mem: parent}}
      children:
        child:
          hosts: {10.0.0.1: }
          vars: {pg_parameters: {work_mem: child}}
`)
	a := d.Cluster("pg-a")
	for ip, want := range map[string]string{"10.0.0.1": "child", "10.0.0.2": "zz", "10.0.0.3": "aa"} {
		if got := param(a.Instance(ip), "work_mem"); got != want {
			t.Errorf("%s: work_mem %q, want %q", ip, got, want)
		}
	}
}

// Pigsty's Citus example: one group whose hosts set pg_cluster and
// pg_group is several clusters, each with the group's users, databases,
// HBA rules and parameters.
func TestCitusGroupIsSeveralClusters(t *testing.T) {
	fsys, _ := archiveFS(t, "testdata/valid/citus_one_group.txtar", "clusters")
	res, err := newTestLoader(t).Load(fsys, Options{Profile: "none"})
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	d := res.Desired
	for _, name := range []string{"pg-citus0", "pg-citus1", "pg-citus2"} {
		c := d.Cluster(name)
		if c == nil || c.Primary() == nil {
			t.Fatalf("%s: %+v", name, c)
		}
		if c.Role("dbuser_citus") == nil || len(c.Databases) != 1 || c.Databases[0].Name != "citus" || c.Databases[0].Owner != "dbuser_citus" {
			t.Errorf("%s: users and databases of the group vars missing", name)
		}
		if r := c.Role("postgres"); r == nil || r.Password.IsZero() {
			t.Errorf("%s: pg_dbsu_password not applied to the dbsu", name)
		}
		if got := param(c.Primary(), "citus.node_conninfo"); got != "sslrootcert=/pg/cert/ca.crt sslmode=verify-full" {
			t.Errorf("%s: citus.node_conninfo %q", name, got)
		}
		if got := param(c.Primary(), "shared_preload_libraries"); got != "citus, pg_cron, pg_stat_statements" {
			t.Errorf("%s: shared_preload_libraries %q", name, got)
		}
		for _, in := range c.Instances {
			n := 0
			for _, r := range in.HBA {
				if !r.Default {
					n++
				}
			}
			if n != 2 {
				t.Errorf("%s: %d cluster HBA rules, want 2", in.Name(), n)
			}
		}
	}
	if d.Cluster("pg-citus") != nil {
		t.Error("the group is not a cluster")
	}
}

// What cannot be one cluster is refused where it is declared, by name.
func TestClusterVarsRefused(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // "LINE:COL: text"
	}{
		{"citus group twice", `
all:
  children:
    pg-citus:
      hosts:
        10.0.0.1: {pg_cluster: pg-c1, pg_group: 1, pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_cluster: pg-c2, pg_group: 1, pg_seq: 1, pg_role: primary}
      vars: {pg_mode: citus, pg_shard: pg-c}
`, []string{"7:49: clusters pg-c1 and pg-c2 are both pg_group 1 of Citus shard pg-c"}},
		{"pg_group differs in a cluster", `
all:
  children:
    pg-c1:
      hosts:
        10.0.0.1: {pg_group: 1, pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_group: 2, pg_seq: 2, pg_role: replica}
      vars: {pg_cluster: pg-c1, pg_mode: citus}
`, []string{"7:30: host 10.0.0.2 of cluster pg-c1 has pg_group 2, but the primary 10.0.0.1 has 1"}},
		{"host var declared twice", `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a}
    other:
      hosts: {10.0.0.1: {pg_role: replica}}
`, []string{`8:35: host "10.0.0.1" is declared more than once with different values of pg_role (other value at pigsty.yml:5:46)`}},
		{"pg_mode of another kernel", `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a, pg_mode: ivory}
`, []string{`6:41: cluster pg-a: pg_mode "ivory" is not supported as such: pgreconciler manages it as plain PostgreSQL`}},
		{"citus primary db not declared", `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a, pg_mode: citus, pg_primary_db: citus}
`, []string{`6:63: cluster pg-a: pg_primary_db "citus" (created by Patroni in Citus mode) is not in pg_databases`}},
		{"standby cluster", `
all:
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary, pg_upstream: 10.9.0.1}
        10.0.0.2: {pg_seq: 2, pg_role: replica, pg_upstream: 10.0.0.1}
      vars: {pg_cluster: pg-a}
`, []string{`6:62: cluster pg-a is a standby cluster (pg_upstream on its primary 10.0.0.1)`}},
		{"nested group checked against #Group", `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a}
    parent:
      children:
        child: {vars: {pg_port: "5432"}, hostz: {}}
`, []string{`9:33: all.children.parent.children.child.vars.pg_port: expected int`, `9:42: all.children.parent.children.child.hostz: field not allowed`}},
		{"admin_ip per host", `
all:
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_seq: 2, pg_role: replica, admin_ip: 10.1.1.1}
      vars: {pg_cluster: pg-a}
`, []string{"7:59: host 10.0.0.2 of cluster pg-a resolves admin_ip differently from the primary 10.0.0.1: not supported"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want []string
			for _, w := range c.want {
				want = append(want, "pigsty.yml:"+w)
			}
			wantProblems(t, loadYAML(t, c.src).Problems, want)
		})
	}
}

// A replica's own pg_users is what Pigsty would apply only after a
// failover: said, not refused.
func TestReplicaPrimaryOnlyVarsWarn(t *testing.T) {
	res := loadYAML(t, `
all:
  children:
    pg-a:
      hosts:
        10.0.0.1: {pg_seq: 1, pg_role: primary}
        10.0.0.2: {pg_seq: 2, pg_role: replica, pg_users: [{name: app}]}
      vars: {pg_cluster: pg-a}
`)
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	if len(res.Problems) != 1 || res.Problems[0].Pos.String() != "pigsty.yml:7:59" ||
		!strings.Contains(res.Problems[0].Message, "Pigsty applies pg_users on the primary only") {
		t.Errorf("want one warning about pg_users at 7:59, got:\n%s", dump(res.Problems))
	}
	if res.Desired.Cluster("pg-a").Role("app") != nil {
		t.Error("a replica's pg_users must not be applied")
	}
}

// TestValidSpecs loads every testdata/valid/*.txtar archive (inventories
// shaped like Pigsty's shipped ones) and checks that it is valid, with no
// warning, and yields exactly the clusters of its "clusters" section
// ("name: ip ip …").
func TestValidSpecs(t *testing.T) {
	l := newTestLoader(t)
	files, _ := filepath.Glob("testdata/valid/*.txtar")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			fsys, extra := archiveFS(t, file, "clusters")
			res, err := l.Load(fsys, Options{Profile: "none"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) > 0 || res.Desired == nil {
				t.Fatalf("problems:\n%s", dump(res.Problems))
			}
			var got []string
			for _, c := range res.Desired.Clusters {
				got = append(got, c.Name+": "+strings.Join(c.MemberIPs(), " "))
			}
			if want := strings.TrimSpace(extra["clusters"]); strings.Join(got, "\n") != want {
				t.Errorf("clusters:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
			}
		})
	}
}
