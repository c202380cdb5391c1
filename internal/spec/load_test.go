package spec

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

// newTestLoader is shared by the tests of this package.
func newTestLoader(t testing.TB) *Loader {
	t.Helper()
	l, err := NewLoader()
	if err == nil {
		_, err = l.compiled() // the tests read l.schema
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// archiveFS reads a txtar archive into a file system, leaving out the
// sections whose names are in skip.
func archiveFS(t testing.TB, file string, skip ...string) (fstest.MapFS, map[string]string) {
	t.Helper()
	a, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	extra := map[string]string{}
outer:
	for _, f := range a.Files {
		for _, s := range skip {
			if f.Name == s {
				extra[f.Name] = string(f.Data)
				continue outer
			}
		}
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	return fsys, extra
}

// TestInvalidSpecs loads every testdata/invalid/*.txtar archive and checks
// that each problem listed in its "want" section ("FILE:LINE:COL: text")
// is reported at exactly that position with a message containing the text,
// and that no other error is reported. No string of its "secrets" section
// may appear in any problem. The archive is loaded with the policy profile
// its "profile" section names, or none.
func TestInvalidSpecs(t *testing.T) {
	l := newTestLoader(t)
	files, _ := filepath.Glob("testdata/invalid/*.txtar")
	if len(files) < 30 {
		t.Fatalf("only %d invalid specs", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			fsys, extra := archiveFS(t, file, "want", "secrets", "profile")
			profile := cmp.Or(strings.TrimSpace(extra["profile"]), "none")
			res, err := l.Load(fsys, Options{Profile: profile})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() == nil {
				t.Fatalf("spec accepted; problems: %v", res.Problems)
			}
			if res.Desired != nil {
				t.Error("an invalid spec must not yield a model")
			}
			wantProblems(t, res.Problems, strings.Split(strings.TrimSpace(extra["want"]), "\n"))
			for _, secret := range strings.Fields(extra["secrets"]) {
				if strings.Contains(dump(res.Problems), secret) {
					t.Errorf("a problem shows the secret %q:\n%s", secret, dump(res.Problems))
				}
			}
		})
	}
}

// wantProblems checks that each of want ("FILE:LINE:COL: text") is
// reported at exactly that position with a message containing the text,
// and that no other error is.
func wantProblems(t *testing.T, ps Problems, want []string) {
	t.Helper()
	matched := map[int]bool{}
	for _, w := range want {
		pos, text, _ := strings.Cut(w, ": ")
		found := false
		for i, p := range ps {
			if p.Pos.String() == pos && strings.Contains(p.Message, text) {
				found, matched[i] = true, true
			}
		}
		if !found {
			t.Errorf("missing problem %q\ngot:\n%s", w, dump(ps))
		}
	}
	for i, p := range ps {
		if p.IsError() && !matched[i] {
			t.Errorf("unexpected problem: %s", p)
		}
	}
}

// problemsOf returns the problems of one rule.
func problemsOf(ps Problems, rule string) Problems {
	var out Problems
	for _, p := range ps {
		if p.Rule == rule {
			out = append(out, p)
		}
	}
	return out
}

func dump(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestExampleRepo(t *testing.T) {
	l := newTestLoader(t)
	res, err := l.Load(os.DirFS("../../examples/repo"), Options{Profile: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	d := res.Desired
	if len(d.Clusters) != 2 || d.Cluster("pg-meta") == nil || d.Cluster("pg-test") == nil {
		t.Fatalf("clusters: %+v", d.Clusters)
	}
	test := d.Cluster("pg-test")
	if len(test.Instances) != 3 || test.Primary().IP != "10.10.10.11" || !test.Instance("pg-test-3").OfflineQuery {
		t.Errorf("pg-test instances wrong: %+v", test.Instances)
	}
	if r := test.Role("dbuser_app"); r == nil || r.Comment != "order service" || r.ConnLimit == nil || *r.ConnLimit != 64 {
		t.Errorf("dbuser_app wrong: %+v", r)
	}
	if r := test.Role("dbrole_readonly"); r == nil || !r.System || r.Login == nil || *r.Login {
		t.Errorf("default role dbrole_readonly wrong: %+v", r)
	}
	if g := test.Globals; g.DBSU != "postgres" || g.AdminIP != "10.10.10.10" || len(g.InfraIPs) != 1 {
		t.Errorf("globals wrong: %+v", g)
	}

	strict, err := l.Load(os.DirFS("../../examples/repo"), Options{Profile: "strict"})
	if err != nil {
		t.Fatal(err)
	}
	if strict.Err() == nil {
		t.Fatal("the strict profile should flag the example fleet")
	}
	rules := map[string]bool{}
	for _, p := range strict.Problems {
		rules[p.Rule] = true
		if len(p.Controls) == 0 && p.IsError() {
			t.Errorf("policy problem without controls: %s", p)
		}
	}
	for _, r := range []string{"login-expiry", "password-complexity", "log-connections", "hba-ssl-required"} {
		if !rules[r] {
			t.Errorf("strict profile did not report %s", r)
		}
	}
}

// TestChecksBesideTheWalk: a load that runs the Go checks beside the
// schema walk gives what the walk-then-checks order gives, problems and
// model alike, on every spec the tests hold (valid or not, with the
// schema refusing something or only the checks) and the examples.
func TestChecksBesideTheWalk(t *testing.T) {
	fast := newTestLoader(t)
	slow := newTestLoader(t)
	slow.serial = true
	specs := map[string]fstest.MapFS{"roles": rolesSpec(10, 100, false), "roles.cue": rolesSpec(10, 100, true)}
	files, _ := filepath.Glob("testdata/*/*.txtar")
	for _, file := range files {
		specs[file], _ = archiveFS(t, file, "want", "secrets", "profile")
	}
	examples := fstest.MapFS{}
	ents, _ := os.ReadDir("../../examples/repo")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("../../examples/repo", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		examples[e.Name()] = &fstest.MapFile{Data: b}
	}
	specs["examples"] = examples
	if len(specs) < 70 {
		t.Fatalf("only %d specs", len(specs))
	}
	for name, fsys := range specs {
		for _, profile := range []string{"none", "strict"} {
			want, err1 := slow.Load(fsys, Options{Profile: profile})
			got, err2 := fast.Load(fsys, Options{Profile: profile})
			if err1 != nil || err2 != nil {
				if fmt.Sprint(err1) != fmt.Sprint(err2) {
					t.Errorf("%s (%s): %v, the walk then the checks: %v", name, profile, err2, err1)
				}
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s): checks beside the walk give\n%v %s\nthe walk, then the checks:\n%v %s", name, profile, err2, dump(got.Problems), err1, dump(want.Problems))
			}
		}
	}
}
