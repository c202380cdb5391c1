package hba

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", name, path, got)
	}
}

// renderChecked renders and checks the invariant every rendering must
// hold: PostgreSQL's reading of the text (Parse) is exactly File.Lines.
func renderChecked(t *testing.T, c *model.Cluster, in *model.Instance) *File {
	t.Helper()
	f, err := Render(c, in)
	if err != nil {
		t.Fatal(err)
	}
	parsed, errs := Parse(f.Text)
	if len(errs) > 0 {
		t.Fatalf("rendered file does not parse: %v", errs)
	}
	if d := Compare(f.Lines, parsed); !d.Empty() || len(parsed) != len(f.Lines) {
		t.Fatalf("File.Lines differ from Parse(File.Text):\n%s", d)
	}
	for i := range parsed {
		if parsed[i].Number != f.Lines[i].Number {
			t.Fatalf("line %d numbered %d in File.Lines", parsed[i].Number, f.Lines[i].Number)
		}
	}
	return f
}

func TestRenderGolden(t *testing.T) {
	r := func(user, db, addr, auth, title string) model.HBARule {
		return model.HBARule{User: user, DB: db, Addr: addr, Auth: auth, Title: title}
	}
	var addrRules, authRules []model.HBARule
	for _, a := range append(slices.Clone(addrAliases), "10.1.0.0/16", "10.2.3.4/32", "0.0.0.0/0") {
		addrRules = append(addrRules, r("dbuser_app", "app", a, "pwd", "addr "+a))
	}
	for _, a := range append(authAliasNames(), "") {
		addr := "world"
		if a == "peer" || a == "ident" || a == "os" {
			addr = "local"
		}
		title := "auth " + a
		if a == "" {
			title = "auth omitted"
		}
		authRules = append(authRules, r("dbuser_app", "app", addr, a, title))
	}
	authRules = append(authRules, r("dbuser_app", "app", "localhost", "ssl", "ssl on localhost stays host"))
	authRules = append(authRules, r("postgres", "all", "localhost", "ident", "ident on localhost"))

	gating := []model.HBARule{
		r("a", "all", "intra", "pwd", "no role"),
		{User: "b", Addr: "intra", Role: "default", Title: "default"},
		{User: "c", Addr: "intra", Role: "common", Title: "common"},
		{User: "d", Addr: "intra", Role: "primary", Title: "primary only"},
		{User: "e", Addr: "intra", Role: "replica", Title: "replica only"},
		{User: "f", Addr: "intra", Role: "offline", Title: "offline only"},
		{User: "g", Addr: "intra", Role: "standby", Title: "standby only"},
		{User: "h", Addr: "intra", Role: "delayed", Title: "delayed only"},
		{Rules: []string{"host all i 10.9.0.0/16 reject"}, Role: "replica", Title: "raw replica"},
	}

	ordering := []model.HBARule{
		{User: "default_300", Addr: "intra", Order: ord(300), Default: true},
		{User: "default_100", Addr: "local", Auth: "peer", Order: ord(100), Default: true},
		{User: "default_none", Addr: "world", Auth: "deny", Default: true},
		{User: "user_none_1", Addr: "admin"},
		{User: "user_300_tie", Addr: "infra", Order: ord(300)},
		{User: "user_50", Addr: "cluster", Order: ord(50)},
		{User: "user_none_2", Addr: "admin"},
		{User: "user_0", Addr: "10.5.0.0/16", Order: ord(0)},
		{User: "user_100_tie", Addr: "world", Auth: "ssl", Order: ord(100)},
	}

	raw := []model.HBARule{
		{Rules: []string{"host all all 10.9.0.0/16 reject"}, Title: "raw active"},
		{Rules: []string{"# a comment kept verbatim", `hostssl "my db" +"my group",bob 10.8.0.0/16 scram-sha-256 clientcert=verify-full`,
			"hostnossl all all ::1/128 md5"}},
		{Rules: []string{"host all all 10.7.0.0 255.255.0.0 trust"}, Role: "replica"},
		{Rules: []string{"host all all 10.6.0.0/16 reject"}, Addr: "world", Auth: "trust", Title: "rules win over fields"},
	}

	md5 := testCluster(append(pigstyDefaultRules(), r("dbuser_app", "app", "world", "ssl", "app via ssl"),
		r("dbuser_app", "app", "intra", "sha", "sha stays scram"), r("dbuser_app", "app", "intra", "ssl-sha", "ssl-sha stays scram")))
	md5.Globals.PasswordEncryption = "md5"

	pigsty := testCluster(append(pigstyDefaultRules(), excerptUserRules()...))

	tests := []struct {
		name string
		c    *model.Cluster
		inst int
	}{
		{"addr_aliases", testCluster(addrRules), 0},
		{"auth_aliases", testCluster(authRules), 0},
		{"gating_primary", testCluster(gating), 0},
		{"gating_replica", testCluster(gating), 1},
		{"gating_offline_query", testCluster(gating), 2},
		{"ordering", testCluster(ordering), 0},
		{"raw_rules", testCluster(raw), 0},
		{"pwd_enc_md5", md5, 0},
		{"pigsty_primary", pigsty, 0},
		{"pigsty_replica", pigsty, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := renderChecked(t, tt.c, tt.c.Instances[tt.inst])
			golden(t, tt.name, f.Text)
		})
	}
}

// TestRenderMatchesPigstyExcerpt checks the rendering of the primary
// against an excerpt of the file Pigsty's template
// (roles/pgsql/templates/pg_hba.conf) renders from its default rules: every
// excerpt line, in order, is a line of the rendered file.
func TestRenderMatchesPigstyExcerpt(t *testing.T) {
	excerpt := `# app via ssl [default]
hostssl  app                dbuser_app         10.1.0.0/16        scram-sha-256
# dbsu access via local os user ident [default]
local    all                postgres                              ident
# replicator replication from localhost [default]
local    replication        replicator                            scram-sha-256
host     replication        replicator         127.0.0.1/32       scram-sha-256
host     replication        replicator         ::1/128            scram-sha-256
# monitor from infra host with password [default]
host     all                dbuser_monitor     10.10.10.10/32     scram-sha-256
# admin @ everywhere with ssl & pwd [default]
hostssl  all                dbuser_dba         0.0.0.0/0          scram-sha-256
hostssl  all                dbuser_dba         ::/0               scram-sha-256
# read/write biz user via password [default]
host     all                +dbrole_readonly   10.0.0.0/8         scram-sha-256
host     all                +dbrole_readonly   192.168.0.0/16     scram-sha-256
host     all                +dbrole_readonly   172.16.0.0/12      scram-sha-256
# offline only [offline] [DISABLED]
#host     all                +dbrole_offline    10.0.0.0/8         scram-sha-256
# raw [replica] [DISABLED]
#host all all 10.9.0.0/16 reject`
	c := testCluster(append(pigstyDefaultRules(), excerptUserRules()...))
	f := renderChecked(t, c, c.Instances[0])
	got := strings.Split(f.Text, "\n")
	i := 0
	for _, want := range strings.Split(excerpt, "\n") {
		for i < len(got) && got[i] != want {
			i++
		}
		if i == len(got) {
			t.Fatalf("excerpt line %q not found (in order) in:\n%s", want, f.Text)
		}
	}
}

func TestRenderBlocks(t *testing.T) {
	c := testCluster(append(pigstyDefaultRules(), excerptUserRules()...))
	f := renderChecked(t, c, c.Instances[0])
	first, last := f.Blocks[0], f.Blocks[len(f.Blocks)-1]
	if first.Source != "pg_hba_rules[0]" || first.Title != "app via ssl" || !first.Active || len(first.Lines) != 1 {
		t.Errorf("first block = %+v", first)
	}
	if last.Source != "pg_hba_rules[2]" || last.Role != "replica" || last.Active || len(last.Lines) != 1 {
		t.Errorf("last block = %+v", last)
	}
	if got := last.Lines[0].String(); got != "host  all  all  10.9.0.0/16  reject" {
		t.Errorf("disabled raw line = %q", got)
	}
	if got := f.Blocks[1].Lines[0].Method; got != "peer" {
		t.Errorf("local ident renders as method %q, want peer (as PostgreSQL reads it)", got)
	}
}

func TestRenderDefaultTitles(t *testing.T) {
	c := testCluster([]model.HBARule{
		{Addr: "intra"},
		{User: "${admin}", DB: "app", Addr: "world", Auth: "ssl"},
		{Rules: []string{"host   all  all 10.9.0.0/16   reject", "host all all 10.8.0.0/16 reject"}},
	})
	f := renderChecked(t, c, c.Instances[0])
	var titles []string
	for _, b := range f.Blocks {
		titles = append(titles, b.Title)
	}
	want := []string{"all@all from intra via pwd", "${admin}@app from world via ssl", "raw: host all all 10.9.0.0/16 reject"}
	if !slices.Equal(titles, want) {
		t.Errorf("titles = %q, want %q", titles, want)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name  string
		rule  model.HBARule
		glob  func(*model.Globals)
		inErr string
	}{
		{"unknown addr", model.HBARule{Addr: "office"}, nil, `unknown addr alias "office"`},
		{"bare ipv4", model.HBARule{Addr: "10.1.2.3"}, nil, `has no /mask`},
		{"unknown auth", model.HBARule{Addr: "world", Auth: "ldap"}, nil, `unknown auth alias "ldap"`},
		{"unknown role", model.HBARule{Addr: "world", Role: "leader"}, nil, `invalid hba role "leader"`},
		{"nothing", model.HBARule{Title: "empty"}, nil, "no rules or addr"},
		{"admin unset", model.HBARule{Addr: "admin"}, func(g *model.Globals) { g.AdminIP = "" }, "admin_ip is not set"},
		{"title newline", model.HBARule{Addr: "world", Title: "x\nhost all all 0.0.0.0/0 trust"}, nil, "control character"},
		{"user with blank", model.HBARule{Addr: "world", User: "a b"}, nil, "not a single pg_hba.conf field"},
		{"user with comment", model.HBARule{Addr: "world", User: "a#b"}, nil, "not a single pg_hba.conf field"},
		{"db open quote", model.HBARule{Addr: "world", DB: `"app`}, nil, "not a single pg_hba.conf field"},
		{"db trailing comma", model.HBARule{Addr: "world", DB: "app,"}, nil, "not a single pg_hba.conf field"},
		{"raw continuation", model.HBARule{Rules: []string{`host all all 10.0.0.0/8 md5 \`}, Role: "replica"}, nil, "backslash"},
		{"raw broken", model.HBARule{Rules: []string{"host all all 10.0.0.0/8 bogus"}}, nil, `invalid authentication method "bogus"`},
		{"raw two lines", model.HBARule{Rules: []string{"local all all trust\nhost all all 0.0.0.0/0 trust"}}, nil, "line break"},
		{"cert on local", model.HBARule{Addr: "local", Auth: "cert"}, nil, "cert authentication is only supported on hostssl"},
		{"peer on tcp", model.HBARule{Addr: "world", Auth: "peer"}, nil, "peer authentication is only supported on local sockets"},
		{"bad intranet", model.HBARule{Addr: "intra"}, func(g *model.Globals) { g.Intranet = []string{"10.0.0.1"} }, `invalid IP mask "scram-sha-256"`},
		{"header injection", model.HBARule{Addr: "world"}, func(g *model.Globals) { g.DBSU = "postgres\nhost all all 0.0.0.0/0 trust" }, "control character"},
		{"raw secret", model.HBARule{Rules: []string{"host all all 0.0.0.0/0 ldap ldapbasedn=y\x01 ldapbindpasswd=s3cret"}}, nil, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCluster([]model.HBARule{tt.rule})
			if tt.glob != nil {
				tt.glob(&c.Globals)
			}
			_, err := Render(c, c.Instances[0])
			if err == nil || !strings.Contains(err.Error(), tt.inErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.inErr)
			}
			if !strings.HasPrefix(err.Error(), "render pg_hba.conf of pg-test-1: ") {
				t.Errorf("error %q lacks the instance", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a secret option's value", err)
			}
		})
	}
}
