package hba

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestOracle checks this package against a real PostgreSQL of the major
// under test (make test runs it on each from 13 to 18): what the server
// reads from rendered and hand-written files (pg_hba_file_rules), and
// which line it picks for real connections. The package follows 15; what
// other majors read differently is listed in versionDifferences, and lines
// of an authentication method the server was built without (the npm
// builds have no GSSAPI, LDAP or PAM; Debian's 15 has them) are skipped,
// with a log line.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	// The primary listens on 127.0.0.1 (BaseIP 1): the simulator's rules
	// name that address.
	c := testenv.NewCluster(t, testenv.Options{Name: "hba-oracle", Replicas: -1})
	conn, err := c.Primary.Admin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	s := &oracleServer{Server: c.Primary, conn: conn, major: c.Major}
	for _, st := range []struct {
		name string
		f    func(*testing.T, *oracleServer)
	}{
		{"rendered", oracleRendered},
		{"bare IPv4 footgun", oracleBareIPv4},
		{"parser", oracleParser},
		{"simulator", oracleSimulator},
		{"regular expressions and include (16)", oracleRegexInclude},
	} {
		t.Run(st.name, func(t *testing.T) {
			// Back to the bootstrap state, pass or fail: the harness's
			// pg_hba.conf (on disk and loaded), no test roles or databases.
			t.Cleanup(func() {
				if err := c.Reset(context.Background()); err != nil {
					t.Errorf("reset test cluster: %v", err)
				}
			})
			st.f(t, s)
		})
	}
}

// oracleServer is the test cluster's primary with a superuser session
// (over TCP as the harness's dbuser_dba: it outlives any pg_hba.conf).
type oracleServer struct {
	*testenv.Server
	conn  *pgx.Conn
	major int
}

// versionDifference is what a major other than 15 makes of a line: the
// server's error ("" when it accepts a line Parse refuses), for the majors
// where applies says so.
type versionDifference struct {
	applies func(major int) bool
	server  string
}

// versionDifferences are the lines the majors read differently from
// PostgreSQL 15, the one this package follows.
func versionDifferences() map[string]versionDifference {
	before14 := func(m int) bool { return m < 14 }
	return map[string]versionDifference{
		// clientname is new in 14; 13 still takes clientcert=1 and, for
		// cert, verify-ca.
		"hostssl all all 0.0.0.0/0 cert clientname=CN map=m":  {before14, `unrecognized authentication option name: "clientname"`},
		"hostssl all all 0.0.0.0/0 cert clientcert=verify-ca": {before14, ""},
		"hostssl all all 0.0.0.0/0 md5 clientcert=1":          {before14, ""},
		// 18's new oauth method takes map too.
		"host all all 0.0.0.0/0 md5 map=x": {func(m int) bool { return m >= 18 },
			`authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, cert, and oauth`},
	}
}

// notAs15 checks the server's row for a line this major reads differently
// from 15 and logs a line of a method the server was built without; it
// reports whether it dealt with the line.
func (s *oracleServer) notAs15(t *testing.T, line string, r model.HBARow) bool {
	t.Helper()
	if d, ok := versionDifferences()[line]; ok && d.applies(s.major) {
		if RowError(r) != d.server {
			t.Errorf("PostgreSQL %d: %q: server says %q, want %q", s.major, line, RowError(r), d.server)
		}
		return true
	}
	if unsupported(RowError(r)) {
		t.Logf("skipped %q: %s", line, RowError(r))
		return true
	}
	return false
}

// unsupported reports whether the server was built without the line's
// authentication method.
func unsupported(serverError string) bool {
	return strings.HasSuffix(serverError, "not supported by this build")
}

// writeHBA replaces the server's pg_hba.conf (no reload) and returns what
// pg_hba_file_rules then shows: the view re-reads the file on every query.
func (s *oracleServer) writeHBA(t *testing.T, text string) []model.HBARow {
	t.Helper()
	if err := os.WriteFile(s.HBAPath(), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := s.conn.Query(context.Background(), `
SELECT line_number, coalesce(type, ''), coalesce(database, '{}'), coalesce(user_name, '{}'),
       coalesce(address, ''), coalesce(netmask, ''), coalesce(auth_method, ''),
       coalesce(options, '{}'), coalesce(error, '')
FROM pg_hba_file_rules ORDER BY line_number`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.HBARow, error) {
		var h model.HBARow
		err := r.Scan(&h.Line, &h.Type, &h.Database, &h.User, &h.Address, &h.Netmask, &h.AuthMethod, &h.Options, &h.Error)
		return h, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reloadHBA writes text and makes it the live pg_hba.conf. A file with
// errors is refused: the server would keep the old one.
func (s *oracleServer) reloadHBA(t *testing.T, text string) {
	t.Helper()
	for _, r := range s.writeHBA(t, text) {
		if e := RowError(r); e != "" {
			t.Fatalf("refusing to reload a file with errors: line %d: %s", r.Line, e)
		}
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
}

// tryConnect opens and closes a connection (pgconn: a replication
// connection cannot run pgx's queries).
func tryConnect(connString string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, connString)
	if err != nil {
		return err
	}
	return c.Close(ctx)
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

func oracleRendered(t *testing.T, s *oracleServer) {
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

func oracleBareIPv4(t *testing.T, s *oracleServer) {
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

func oracleParser(t *testing.T, s *oracleServer) {
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
		if s.notAs15(t, good[i], r) {
			continue
		}
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
		if s.notAs15(t, bad[i], r) {
			continue
		}
		silent := r.Type == "" && r.Error == "" // see RowError
		if RowError(r) == "" || pe.Line != r.Line || pe.Msg != r.Error && !silent {
			t.Errorf("%q: server says %q at line %d, Parse says %v", bad[i], RowError(r), r.Line, pe)
		}
	}

	// Continuation lines, as PostgreSQL 14+ numbers them (13 has none:
	// Parse follows 14+).
	text := "local all all trust\nhost all all 10.0.0.0/8 \\\n  md5\n# comment \\\nhost all all 1.1.1.1/32 md5\nlocal all all peer\n"
	rows = s.writeHBA(t, text)
	if s.major < 14 {
		if len(rows) < 2 || rows[1].Error != `invalid authentication method "\"` {
			t.Errorf("PostgreSQL %d reads a continuation line: %+v", s.major, rows)
		}
		return
	}
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
func oracleSimulator(t *testing.T, s *oracleServer) {
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
	tcp := netip.MustParseAddr("127.0.0.1")
	var client string
	if err := s.conn.QueryRow(ctx, "SELECT coalesce(host(inet_client_addr()), 'unix socket')").Scan(&client); err != nil {
		t.Fatal(err)
	}
	if s.Addr != tcp.String() || client != tcp.String() {
		t.Fatalf("server on %s sees TCP clients as %s; the rules above need %s for both", s.Addr, client, tcp)
	}
	s.reloadHBA(t, text)
	lines := mustParse(t, text)

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
		cs := fmt.Sprintf("host='%s' port=%d connect_timeout=5 user=%s dbname=%s", s.SocketDir, s.Port, c.User, c.Database)
		if !c.Local {
			cs = fmt.Sprintf("host=%s port=%d connect_timeout=5 user=%s sslmode=%s", s.Addr, s.Port, c.User, tt.ssl)
			if c.Database != "" {
				cs += " dbname=" + c.Database
			}
		}
		if tt.repl != "" {
			cs += " replication=" + tt.repl
		}
		ok, by, reason := Allowed(lines, c, member)
		err := tryConnect(cs)
		switch {
		case ok && err != nil:
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		case !ok && err == nil:
			t.Errorf("%+v: simulator: %s; server let it in", c, reason)
		case !ok && by == nil && !strings.Contains(err.Error(), "no pg_hba.conf entry"):
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		// "rejects replication connection" for a logical walsender before 14
		case !ok && by != nil && !strings.Contains(err.Error(), "pg_hba.conf rejects "):
			t.Errorf("%+v: simulator: %s; server: %v", c, reason, err)
		}
	}
}
