package pgbouncer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// loadRepo loads a spec repository directory with the given profile.
func loadRepo(t *testing.T, dir, profile string) *model.Desired {
	t.Helper()
	l, err := spec.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(os.DirFS(dir), spec.Options{Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return res.Desired
}

// storedFile reads a fixture's stored.json: pg_authid.rolpassword of the
// roles whose password the inventory does not give (null for NULL).
func storedFile(t *testing.T, path string) map[string]model.Secret {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]*string
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]model.Secret{}
	for k, v := range raw {
		if v != nil {
			out[k] = model.NewSecret(*v)
		} else {
			out[k] = model.Secret{}
		}
	}
	return out
}

// hbaBody is a pgb_hba.conf after its header (the user alias block), each
// line without trailing blanks: Pigsty's header holds the render time and
// Ansible's banner, pgreconciler's a note of its own, and Pigsty's title
// lines end in a blank.
func hbaBody(t *testing.T, text string) string {
	t.Helper()
	const end = "# admin   :  "
	i := strings.Index(text, end)
	if i < 0 {
		t.Fatalf("no user alias block in:\n%s", text)
	}
	rest := text[i:]
	rest = rest[strings.Index(rest, "\n")+1:]
	lines := strings.Split(rest, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n")
}

// TestRenderMatchesPigsty compares Render with what Pigsty's templates
// (pgbouncer.useropts, pgbouncer.database, pgbouncer.hba) and pgb-user
// produce for every instance of the project's examples and of a
// Pigsty-shaped fleet that uses every field: the golden files under
// testdata/pigsty/*/golden were rendered by Jinja from Pigsty's own
// templates (testdata/pigsty/render.py, see testdata/pigsty/README.md).
// useropts.txt, database.txt and userlist.txt must be byte for byte the
// same; pgb_hba.conf from the end of its header on, trailing blanks aside.
func TestRenderMatchesPigsty(t *testing.T) {
	for _, fx := range []struct {
		name, repo, profile string
	}{
		{"examples", "../../examples/repo", "baseline"},
		{"fleet", "testdata/pigsty/fleet", "none"},
	} {
		t.Run(fx.name, func(t *testing.T) {
			d := loadRepo(t, fx.repo, fx.profile)
			stored := storedFile(t, filepath.Join("testdata/pigsty", fx.name, "stored.json"))
			dirs, err := os.ReadDir(filepath.Join("testdata/pigsty", fx.name, "golden"))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range d.Clusters {
				for _, in := range c.Instances {
					n++
					files, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: stored})
					if err != nil {
						t.Fatal(err)
					}
					dir := filepath.Join("testdata/pigsty", fx.name, "golden", in.Name())
					read := func(base string) string {
						b, err := os.ReadFile(filepath.Join(dir, base))
						if err != nil {
							t.Fatal(err)
						}
						return string(b)
					}
					userlist, err := files.Userlist.Text()
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range []struct{ base, got, want string }{
						{"useropts.txt", files.Useropts, read("useropts.txt")},
						{"database.txt", files.Database, read("database.txt")},
						{"pgb_hba.conf", hbaBody(t, files.HBA.Text), hbaBody(t, read("pgb_hba.conf"))},
					} {
						if f.got != f.want {
							t.Errorf("%s %s differs from Pigsty's:\n--- got\n%s--- want\n%s", in.Name(), f.base, f.got, f.want)
						}
					}
					if userlist.Reveal() != read("userlist.txt") { // never print the verifiers
						t.Errorf("%s userlist.txt differs from Pigsty's; rendered (redacted):\n%s", in.Name(), files.Userlist.Redacted())
					}
				}
			}
			if n != len(dirs) {
				t.Errorf("rendered %d instances, golden files for %d", n, len(dirs))
			}
		})
	}
}
