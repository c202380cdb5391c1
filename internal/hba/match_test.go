package hba

import (
	"net/netip"
	"strings"
	"testing"
)

func mustParse(t *testing.T, text string) []Line {
	t.Helper()
	lines, errs := Parse(text)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return lines
}

// memberships: u ∈ g2 ∈ g1 (transitively u ∈ g1); w ∈ app.
func testMembership(user, group string) bool {
	m := map[string][]string{"u": {"g2", "g1"}, "w": {"app"}}
	for _, g := range m[user] {
		if g == group {
			return true
		}
	}
	return false
}

func tcp(addr, db, user string) Conn {
	return Conn{Addr: netip.MustParseAddr(addr), Database: db, User: user}
}

func TestMatch(t *testing.T) {
	lines := mustParse(t, `
local   all          postgres                 peer
local   replication  postgres                 peer
host    replication  replicator 10.0.0.0/8    scram-sha-256
host    all          +g1        10.0.0.0/8    scram-sha-256
hostssl all          admin      0.0.0.0/0     scram-sha-256
hostnossl all        admin      0.0.0.0/0     reject
host    sameuser     all        192.168.0.0/16 md5
host    samerole     all        192.168.0.0/16 md5
host    "all"        all        172.16.0.0/12 md5
host    all          "all"      172.16.0.0/12 md5
host    all          all        ::1/128       trust
host    db1,db2      bob,carol  10.0.0.0 255.255.0.0 md5
host    all          all        10.9.0.0/16   reject
host    all          all        10.0.0.0/8    md5
`)
	tests := []struct {
		name string
		conn Conn
		want int // line number; 0 = no match
	}{
		{"local dbsu", Conn{Local: true, Database: "app", User: "postgres"}, 2},
		{"local other user", Conn{Local: true, Database: "app", User: "bob"}, 0},
		{"tcp dbsu skips local lines", tcp("10.1.1.1", "app", "postgres"), 15},
		{"physical replication", Conn{Addr: netip.MustParseAddr("10.1.1.1"), User: "replicator", Replication: true, Database: "ignored"}, 4},
		{"physical replication over socket", Conn{Local: true, User: "postgres", Replication: true}, 3},
		{"all does not match replication", Conn{Addr: netip.MustParseAddr("10.1.1.1"), User: "bob", Replication: true}, 0},
		{"replication keyword needs walsender", tcp("10.1.1.1", "replication", "replicator"), 15},
		{"+group transitive", tcp("10.1.1.1", "app", "u"), 5},
		{"+group self", tcp("10.1.1.1", "app", "g1"), 5},
		{"+group non-member", tcp("10.1.1.1", "app", "bob"), 15},
		{"hostssl with ssl", Conn{Addr: netip.MustParseAddr("8.8.8.8"), SSL: true, Database: "app", User: "admin"}, 6},
		{"hostnossl without ssl", tcp("8.8.8.8", "app", "admin"), 7},
		{"sameuser", tcp("192.168.1.1", "bob", "bob"), 8},
		{"samerole", tcp("192.168.1.1", "app", "w"), 9},
		{"samerole self", tcp("192.168.1.1", "w", "w"), 8},
		{"neither", tcp("192.168.1.1", "app", "bob"), 0},
		{"quoted all is a name", tcp("172.16.0.1", "all", "x"), 10},
		{"quoted all user", tcp("172.16.0.1", "app", "all"), 11},
		{"quoted all matches nothing else", tcp("172.16.0.1", "app", "x"), 0},
		{"ipv6", tcp("::1", "app", "x"), 12},
		{"ipv4-mapped is not ipv4", tcp("::ffff:10.1.1.1", "app", "x"), 0},
		{"netmask and lists", tcp("10.0.5.5", "db2", "carol"), 13},
		{"reject before allow", tcp("10.9.1.1", "app", "x"), 14},
		{"last line", tcp("10.8.1.1", "app", "x"), 15},
		{"outside", tcp("11.0.0.1", "app", "x"), 0},
	}
	for _, tt := range tests {
		idx, l, undecided := Match(lines, tt.conn, testMembership)
		got := 0
		if l != nil {
			got = l.Number
			if &lines[idx] != l {
				t.Errorf("%s: idx %d does not point at the line", tt.name, idx)
			}
		} else if idx != -1 {
			t.Errorf("%s: no match but idx %d", tt.name, idx)
		}
		if got != tt.want || undecided {
			t.Errorf("%s: matched line %d (undecided %v), want %d", tt.name, got, undecided, tt.want)
		}
	}
}

func TestMatchGSS(t *testing.T) {
	lines := mustParse(t, "hostgssenc all all 0.0.0.0/0 gss\nhostnogssenc all all 0.0.0.0/0 md5\n")
	if _, l, _ := Match(lines, Conn{Addr: netip.MustParseAddr("1.1.1.1"), GSS: true, User: "a", Database: "b"}, nil); l == nil || l.Number != 1 {
		t.Errorf("GSS connection matched %v", l)
	}
	if _, l, _ := Match(lines, Conn{Addr: netip.MustParseAddr("1.1.1.1"), User: "a", Database: "b"}, nil); l == nil || l.Number != 2 {
		t.Errorf("plain connection matched %v", l)
	}
}

func TestMatchUndecided(t *testing.T) {
	for _, text := range []string{
		"host all all samehost md5",
		"host all all samenet md5",
		"host all all db.example.com md5",
		"host @dbs all 0.0.0.0/0 md5",
		"host all @users 0.0.0.0/0 md5",
		"host all all 10.0.0.0/8 md5\nhost all all samenet reject",
	} {
		lines := mustParse(t, text+"\nhost all all 0.0.0.0/0 trust\n")
		_, l, undecided := Match(lines, tcp("10.1.1.1", "app", "x"), nil)
		if text == "host all all 10.0.0.0/8 md5\nhost all all samenet reject" {
			if undecided || l.Number != 1 {
				t.Errorf("%q: a decided line before the undecidable one must win, got %v %v", text, l, undecided)
			}
			continue
		}
		if !undecided || l == nil || l.Number != 1 {
			t.Errorf("%q: got %v undecided=%v, want line 1 undecided", text, l, undecided)
		}
		ok, _, reason := Allowed(lines, tcp("10.1.1.1", "app", "x"), nil)
		if ok || !strings.HasPrefix(reason, "cannot decide at line 1: ") {
			t.Errorf("%q: Allowed = %v %q", text, ok, reason)
		}
	}
	// A line that cannot match for other reasons is skipped, not undecided.
	lines := mustParse(t, "host other all samenet md5\nhost all all 0.0.0.0/0 trust\n")
	if _, l, undecided := Match(lines, tcp("10.1.1.1", "app", "x"), nil); undecided || l.Number != 2 {
		t.Errorf("got %v undecided=%v, want line 2", l, undecided)
	}
}

func TestAllowed(t *testing.T) {
	lines := mustParse(t, "local all postgres peer\nhost all all 10.9.0.0/16 reject\nhost all all 0.0.0.0/0 scram-sha-256\n")
	tests := []struct {
		conn   Conn
		ok     bool
		reason string
	}{
		{Conn{Local: true, User: "postgres", Database: "postgres"}, true, "allowed by line 1: local  all  postgres  peer"},
		{tcp("10.9.0.1", "app", "x"), false, "rejected by line 2: host  all  all  10.9.0.0/16  reject"},
		{tcp("10.8.0.1", "app", "x"), true, "allowed by line 3: host  all  all  0.0.0.0/0  scram-sha-256"},
		{Conn{Local: true, User: "x", Database: "app"}, false, "no line matches"},
	}
	for _, tt := range tests {
		ok, by, reason := Allowed(lines, tt.conn, nil)
		if ok != tt.ok || reason != tt.reason || (by == nil) != (reason == "no line matches") {
			t.Errorf("Allowed(%+v) = %v, %v, %q; want %v, %q", tt.conn, ok, by, reason, tt.ok, tt.reason)
		}
	}
	// Hand-built lines without numbers are named by position.
	hand := []Line{{Type: Host, Databases: []string{"all"}, Users: []string{"all"}, Address: Address{Kind: AddrAll}, Method: "reject"}}
	if _, _, reason := Allowed(hand, tcp("1.2.3.4", "a", "b"), nil); reason != "rejected by line 1: host  all  all  all  reject" {
		t.Errorf("reason = %q", reason)
	}
}

// TestRenderedDefaultsKeepAccess runs the simulator over Pigsty's default
// rules rendered for a primary: the accesses cases H01, H02 and H08 protect
// (promise P10, docs/promises.md).
func TestRenderedDefaultsKeepAccess(t *testing.T) {
	c := testCluster(pigstyDefaultRules())
	for _, in := range c.Instances {
		f := renderChecked(t, c, in)
		for _, tt := range []struct {
			conn Conn
			ok   bool
		}{
			{Conn{Local: true, User: "postgres", Database: "postgres"}, true},
			{Conn{Local: true, User: "postgres", Replication: true}, true},
			{Conn{Addr: netip.MustParseAddr("10.10.10.12"), User: "replicator", Replication: true}, true},
			{Conn{Addr: netip.MustParseAddr("127.0.0.1"), User: "dbuser_monitor", Database: "postgres"}, true},
			{Conn{Addr: netip.MustParseAddr("8.8.8.8"), User: "dbuser_dba", Database: "postgres"}, false},
			{Conn{Addr: netip.MustParseAddr("8.8.8.8"), SSL: true, User: "dbuser_dba", Database: "postgres"}, true},
			{Conn{Addr: netip.MustParseAddr("8.8.8.8"), SSL: true, User: "replicator", Replication: true}, false},
		} {
			if ok, _, reason := Allowed(f.Lines, tt.conn, nil); ok != tt.ok {
				t.Errorf("%s: %+v: %v (%s)", in.Name(), tt.conn, ok, reason)
			}
		}
	}
}
