package hba

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// TestOracle checks this package against a real PostgreSQL 15: what the
// server reads from rendered and hand-written files (pg_hba_file_rules),
// and which line it picks for real connections.
func TestOracle(t *testing.T) {
	s := startPG(t)
	t.Run("rendered", func(t *testing.T) { oracleRendered(t, s) })
	t.Run("bare IPv4 footgun", func(t *testing.T) { oracleBareIPv4(t, s) })
	t.Run("parser", func(t *testing.T) { oracleParser(t, s) })
	t.Run("simulator", func(t *testing.T) { oracleSimulator(t, s) })
}

// everyAliasRules uses every addr alias and every auth alias, plus raw
// rules and Pigsty's defaults.
func everyAliasRules() []model.HBARule {
	rules := pigstyDefaultRules()
	for _, a := range append(slices.Clone(addrAliases), "10.1.0.0/16", "10.2.3.4/32") {
		rules = append(rules, model.HBARule{User: "dbuser_app", DB: "app", Addr: a, Title: "addr " + a})
	}
	for _, a := range append(authAliasNames(), "") {
		addr := "world"
		if a == "peer" {
			addr = "local"
		}
		rules = append(rules, model.HBARule{User: "+dbrole_readonly", DB: "app,meta", Addr: addr, Auth: a, Role: "primary"})
	}
	return append(rules,
		model.HBARule{User: "${dbsu}", Addr: "localhost", Auth: "os", Role: "replica"},
		model.HBARule{User: "${monitor}", Addr: "cluster", Auth: "md5", Role: "offline"},
		model.HBARule{Rules: []string{`hostssl "my db" +"my group",bob 10.8.0.0 255.255.0.0 md5 clientcert=verify-ca`,
			"host all all samenet reject", "hostnossl all all .example.com trust"}},
	)
}

func oracleRendered(t *testing.T, s *pgServer) {
	c := testCluster(everyAliasRules())
	for _, in := range c.Instances {
		f := renderChecked(t, c, in)
		rows := s.writeHBA(t, f.Text)
		if len(rows) != len(f.Lines) {
			t.Fatalf("%s: %d rows for %d lines", in.Name(), len(rows), len(f.Lines))
		}
		for i, r := range rows {
			if e := RowError(r); e != "" {
				t.Errorf("%s: line %d: %s", in.Name(), r.Line, e)
				continue
			}
			got, want := FromRow(r), f.Lines[i]
			if r.Line != want.Number || !Equal(got, want) {
				t.Errorf("%s: row %d %q != rendered line %d %q", in.Name(), r.Line, got, want.Number, want)
			}
		}
	}
}

func oracleBareIPv4(t *testing.T, s *pgServer) {
	const raw = "host     all                dbuser_app         10.1.2.3           scram-sha-256"
	rows := s.writeHBA(t, "local all all trust\n"+raw+"\n")
	if len(rows) != 2 || rows[1].Error != `invalid IP mask "scram-sha-256": Name or service not known` {
		t.Fatalf("rows = %+v", rows)
	}
	if err := CheckAddr("10.1.2.3"); err == nil {
		t.Error("CheckAddr accepts the address PostgreSQL rejects")
	}
	if _, err := ParseRawLine(raw); err == nil || !strings.Contains(err.Error(), rows[1].Error) {
		t.Errorf("ParseRawLine = %v, want %q", err, rows[1].Error)
	}
}

// lossy lists good lines whose pg_hba_file_rules row cannot be told from
// a different line (FromRow documents why).
var lossy = map[string]bool{
	`local "all" all trust`:                                      true,
	`local all "all" trust`:                                      true,
	`local "replication" "+grp" trust`:                           true,
	`local "samegroup" all trust`:                                true,
	`local "@dbs" @ trust`:                                       true,
	`host all all "samenet" md5`:                                 true,
	"host all all 0.0.0.0/0 pam pamservice=x pam_use_hostname=1": true,
}

func oracleParser(t *testing.T, s *pgServer) {
	var good []string
	for _, c := range goodLines() {
		if !strings.Contains(c.in, " @") { // PostgreSQL would read the file
			good = append(good, c.in)
		}
	}
	rows := s.writeHBA(t, strings.Join(good, "\n")+"\n")
	parsed, errs := Parse(strings.Join(good, "\n"))
	if len(errs) > 0 || len(rows) != len(good) || len(parsed) != len(good) {
		t.Fatalf("%d lines, %d rows, %d parsed, errors %v", len(good), len(rows), len(parsed), errs)
	}
	for i, r := range rows {
		if RowError(r) != "" {
			t.Errorf("server rejects %q: %s", good[i], RowError(r))
			continue
		}
		equal := Equal(FromRow(r), parsed[i])
		if equal == lossy[good[i]] {
			t.Errorf("%q: FromRow %q, Parse %q (documented lossy: %v)", good[i], FromRow(r), parsed[i], lossy[good[i]])
		}
	}

	var bad []string
	for in := range badLines() {
		if !strings.Contains(in, "@") {
			bad = append(bad, in)
		}
	}
	slices.Sort(bad)
	rows = s.writeHBA(t, strings.Join(bad, "\n")+"\n")
	_, errs = Parse(strings.Join(bad, "\n"))
	if len(rows) != len(bad) || len(errs) != len(bad) {
		t.Fatalf("%d bad lines: %d rows, %d parse errors", len(bad), len(rows), len(errs))
	}
	for i, r := range rows {
		pe := errs[i].(*ParseError)
		silent := r.Type == "" && r.Error == "" // see RowError
		if RowError(r) == "" || pe.Line != r.Line || pe.Msg != r.Error && !silent {
			t.Errorf("%q: server says %q at line %d, Parse says %v", bad[i], RowError(r), r.Line, pe)
		}
	}

	// Continuation lines, as PostgreSQL 15 numbers them.
	text := "local all all trust\nhost all all 10.0.0.0/8 \\\n  md5\n# comment \\\nhost all all 1.1.1.1/32 md5\nlocal all all peer\n"
	rows = s.writeHBA(t, text)
	parsed, _ = Parse(text)
	if len(rows) != 3 || len(parsed) != 3 {
		t.Fatalf("continuation: rows %+v, parsed %v", rows, parsed)
	}
	for i, r := range rows {
		if r.Line != parsed[i].Number || !Equal(FromRow(r), parsed[i]) {
			t.Errorf("continuation: row %+v, parsed %v", r, parsed[i])
		}
	}
}

// oracleSimulator connects for real and checks that Allowed predicts the
// outcome and names the right reason.
func oracleSimulator(t *testing.T, s *pgServer) {
	ctx := context.Background()
	for _, sql := range []string{
		"CREATE ROLE g1", "CREATE ROLE g2 IN ROLE g1", "CREATE ROLE u LOGIN IN ROLE g2", "CREATE ROLE v LOGIN",
		"CREATE ROLE r LOGIN REPLICATION", `CREATE DATABASE "all"`, "CREATE DATABASE g1",
	} {
		if _, err := s.conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	groups := map[string][]string{"u": {"g2", "g1"}}
	member := func(user, group string) bool { return slices.Contains(groups[user], group) }
	text := `
local   all          postgres                 trust
local   all          v                        reject
hostssl all          v        127.0.0.1/32    trust
host    all          +g1      127.0.0.1/32    trust
host    samerole     all      127.0.0.1/32    trust
host    replication  r        127.0.0.1/32    trust
host    all          r        127.0.0.1/32    reject
host    "all"        all      127.0.0.1/32    trust
host    all          all      127.0.0.2/32    trust
host    all          "all"    127.0.0.0/8     trust
local   all          all                      trust
`
	probe := s.connString("user=v dbname=postgres")
	s.reloadHBA(t, text, probe, false)
	lines := mustParse(t, text)

	tcp := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		conn Conn
		ssl  string // sslmode for TCP
		repl string // replication startup parameter
	}{
		{conn: Conn{Local: true, User: "postgres", Database: "postgres"}},
		{conn: Conn{Local: true, User: "v", Database: "postgres"}},
		{conn: Conn{Local: true, User: "u", Database: "postgres"}},
		{conn: Conn{Addr: tcp, User: "v", Database: "postgres"}, ssl: "disable"},
		{conn: Conn{Addr: tcp, SSL: true, User: "v", Database: "postgres"}, ssl: "require"},
		{conn: Conn{Addr: tcp, User: "u", Database: "postgres"}, ssl: "disable"},
		{conn: Conn{Addr: tcp, SSL: true, User: "u", Database: "postgres"}, ssl: "require"},
		{conn: Conn{Addr: tcp, User: "u", Database: "g1"}, ssl: "disable"},
		{conn: Conn{Addr: tcp, User: "v", Database: "g1"}, ssl: "disable"},
		{conn: Conn{Addr: tcp, User: "v", Database: "all"}, ssl: "disable"},
		{conn: Conn{Addr: tcp, User: "r", Replication: true}, ssl: "disable", repl: "true"},
		{conn: Conn{Addr: tcp, User: "u", Replication: true}, ssl: "disable", repl: "true"},
		{conn: Conn{Addr: tcp, User: "r", Database: "postgres"}, ssl: "disable", repl: "database"},
		{conn: Conn{Addr: tcp, User: "r", Database: "postgres"}, ssl: "disable"},
	}
	for _, tt := range tests {
		c := tt.conn
		cs := s.connString(fmt.Sprintf("user=%s dbname=%s", c.User, c.Database))
		if !c.Local {
			cs = fmt.Sprintf("host=127.0.0.1 port=%d connect_timeout=5 user=%s sslmode=%s", s.port, c.User, tt.ssl)
			if c.Database != "" {
				cs += " dbname=" + c.Database
			}
		}
		if tt.repl != "" {
			cs += " replication=" + tt.repl
		}
		ok, by, reason := Allowed(lines, c, member)
		err := s.tryConnect(cs)
		switch {
		case ok && err != nil:
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		case !ok && err == nil:
			t.Errorf("%+v: simulator: %s; server let it in", c, reason)
		case !ok && by == nil && !strings.Contains(err.Error(), "no pg_hba.conf entry"):
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		case !ok && by != nil && !strings.Contains(err.Error(), "pg_hba.conf rejects connection"):
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		}
	}
}
