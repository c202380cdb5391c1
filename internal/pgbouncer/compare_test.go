package pgbouncer_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
)

// liveFiles is a PoolerState holding the rendered files as they are.
func liveFiles(t *testing.T, f *pgbouncer.Files) *model.PoolerState {
	t.Helper()
	u, err := f.Userlist.Text()
	if err != nil {
		t.Fatal(err)
	}
	return &model.PoolerState{Userlist: model.PoolerSecretFile{Path: "/etc/pgbouncer/userlist.txt", Content: u},
		Useropts: model.PoolerFile{Text: f.Useropts}, Database: model.PoolerFile{Text: f.Database}, HBA: model.PoolerFile{Text: f.HBA.Text}}
}

func TestCompareFiles(t *testing.T) {
	c := cluster([]*model.Role{{Name: "a", PoolMode: "session", Pgbouncer: true, Password: model.NewSecret(verifier(t, "A.pw"))}},
		[]*model.Database{{Name: "x", Pgbouncer: true, PoolSize: intp(4)}})
	f, err := pgbouncer.Render(c, c.Instances[0], pgbouncer.Inputs{Stored: map[string]model.Secret{"dbuser_dba": {}, "dbuser_monitor": {}}})
	if err != nil {
		t.Fatal(err)
	}
	st := liveFiles(t, f)
	if fs := pgbouncer.CompareFiles(f, st); len(fs) > 0 {
		t.Fatalf("the rendered files are drift of themselves: %v", fs)
	}

	// Comments, spacing and userlist order are not drift.
	st.Useropts.Text = "; hand comment\n" + strings.ReplaceAll(f.Useropts, "                  ", " ")
	u := strings.Split(strings.TrimSuffix(st.Userlist.Content.Reveal(), "\n"), "\n")
	st.Userlist.Content = model.NewSecret(u[2] + "\n" + u[1] + "\n" + u[0] + "\n" + strings.Join(u[3:], "\n"))
	st.HBA.Text = strings.ReplaceAll(f.HBA.Text, "127.0.0.1/32       ", "127.0.0.1/32 ")
	if fs := pgbouncer.CompareFiles(f, st); len(fs) > 0 {
		t.Fatalf("cosmetic changes are drift: %v", fs)
	}

	st.Useropts.Text = f.Useropts + "b@c = pool_mode=statement\n"
	st.Database.Text = strings.Replace(f.Database, "pool_size=4", "pool_size=5 password=Hunter2", 1) + "y = host=10.0.0.1\n"
	st.HBA.Text = f.HBA.Text + "host all +grp 10.0.0.0/8 trust\nhost all all 0.0.0.0/0 trust\n"
	st.Userlist = model.PoolerSecretFile{Path: "/x/userlist.txt", Err: "permission denied"}
	fs := pgbouncer.CompareFiles(f, st)
	if len(fs) != 4 {
		t.Fatalf("findings %v, want one per file", fs)
	}
	byFile := map[pgbouncer.File]pgbouncer.Finding{}
	for _, x := range fs {
		byFile[x.File] = x
	}
	diff := func(f pgbouncer.File) string { return strings.Join(byFile[f].Diff, "\n") }
	if x := byFile[pgbouncer.Userlist]; x.Have != "unreadable" || !strings.Contains(x.Reason, "permission denied") {
		t.Errorf("unreadable userlist.txt: %v", x)
	}
	if d := diff(pgbouncer.Useropts); !strings.Contains(d, `! line 3 "b@c = pool_mode=statement"`) {
		t.Errorf("useropts.txt diff:\n%s", d)
	}
	if d, x := diff(pgbouncer.Database), byFile[pgbouncer.Database]; strings.Contains(d, "Hunter2") || !strings.Contains(d, "+ x = host=/var/run/postgresql pool_size=4") ||
		!strings.Contains(d, "- x = host=/var/run/postgresql pool_size=5 password=<redacted>") || x.Have != "1 unexpected, 1 value differs" {
		t.Errorf("database.txt: %v\n%s", x, d)
	}
	if d := diff(pgbouncer.HBA); !strings.Contains(d, "- host  all  all  0.0.0.0/0  trust") || !strings.Contains(d, "does not support group +grp") {
		t.Errorf("pgb_hba.conf diff:\n%s", d)
	}
}

func TestLockout(t *testing.T) {
	c := cluster(nil, nil)
	in := c.Instances[0]
	parse := func(text string) []hba.Line {
		t.Helper()
		lines, errs := hba.ParsePgBouncer(text)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return lines
	}
	users := &pgbouncer.UserlistFile{Entries: []pgbouncer.Entry{{Name: "postgres"}, {Name: "dbuser_monitor", Password: model.NewSecret("md5" + strings.Repeat("a", 32))},
		{Name: "dbuser_dba", Password: model.NewSecret(verifier(t, "x"))}}}
	pigsty := "local pgbouncer postgres peer\nlocal all all md5\nhost all dbuser_dba 10.0.0.0/8 scram-sha-256\n"
	if p := pgbouncer.Lockout(parse(pigsty), users, pgbouncer.Victims(c, in)); len(p) > 0 {
		t.Errorf("Pigsty-like rules lock out: %v", p)
	}
	self := pgbouncer.Victim{Conn: hba.Conn{Addr: netip.MustParseAddr("10.1.1.1"), Database: "pgbouncer", User: "dbuser_dba"}, Who: "the reconciler"}
	for _, tc := range []struct {
		name, text string
		users      *pgbouncer.UserlistFile
		want       []string
	}{
		{"empty file", "", users, []string{"no line of pgb_hba.conf would allow postgres", "would allow dbuser_monitor", "would allow dbuser_dba (admin)", "would allow the reconciler"}},
		{"reject first", "host all dbuser_dba 0.0.0.0/0 reject\n" + pigsty, users, []string{"would reject dbuser_dba (admin)", "would reject the reconciler"}},
		{"peer for the monitor", "local all all peer\nhost all all 0.0.0.0/0 md5\n", users, []string{"asks peer of dbuser_monitor"}},
		{"cert", "local all all peer\nhostssl all all 0.0.0.0/0 cert\n", users, []string{"asks peer of dbuser_monitor", "would allow dbuser_dba (admin)", "would allow the reconciler"}},
		{"scram for an md5 hash", "local pgbouncer postgres peer\nlocal all all scram-sha-256\nhost all all 0.0.0.0/0 md5\n", users,
			[]string{"asks scram-sha-256 of dbuser_monitor (monitor) to database pgbouncer over the local socket, and userlist.txt holds an md5 hash"}},
		{"admin not in userlist", pigsty, &pgbouncer.UserlistFile{Entries: users.Entries[:2]}, []string{"userlist.txt holds none for dbuser_dba"}},
		{"trust lets anyone in", "local all all trust\nhost all all 0.0.0.0/0 trust\n", &pgbouncer.UserlistFile{}, nil},
	} {
		got := pgbouncer.Lockout(parse(tc.text), tc.users, append(pgbouncer.Victims(c, in), self))
		if len(got) == 0 && len(tc.want) > 0 || len(tc.want) == 0 && len(got) > 0 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		all := strings.Join(got, "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: %q not in\n%s", tc.name, w, all)
			}
		}
	}
}
