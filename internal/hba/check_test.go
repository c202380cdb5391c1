package hba

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr  string
		inErr string // "" = valid
	}{
		{"local", ""}, {"localhost", ""}, {"admin", ""}, {"infra", ""}, {"cluster", ""},
		{"intra", ""}, {"intranet", ""}, {"world", ""}, {"all", ""},
		{"10.0.0.0/8", ""}, {"10.1.2.3/32", ""}, {"0.0.0.0/0", ""}, {"192.168.0.0/16", ""},
		{"", "addr is empty"},
		{"office", `unknown addr alias "office"`},
		{"World", `unknown addr alias "World"`},
		{"db.example.com", "host names and IPv6 need raw rules"},
		{"::1/128", "IPv6 addresses are not accepted"},
		{"10.0.0.0/33", "invalid CIDR mask /33"},
		{"10.0.0.0/", "invalid CIDR mask /"},
		{"10.0.0.0/08", "invalid CIDR mask /08"},
		{"10.0.0.0/x", "invalid CIDR mask /x"},
		{"10.1.2.3/8", "host bits set: PostgreSQL matches it as 10.0.0.0/8"},
		{"10.1.2.3", "has no /mask"},
		{"10.1.2.3", "write 10.1.2.3/32"},
		{"10.1.2.256/32", "octet 256 is out of range"},
		{"999.1.2.3/32", "octet 999 is out of range"},
		{"010.1.2.3/32", "leading zero"},
		{"10.1.2/24", "unknown addr alias"},
		{"10.1.2.3.4/32", "unknown addr alias"},
		{"1234.1.2.3/32", "unknown addr alias"},
	}
	for _, tt := range tests {
		err := CheckAddr(tt.addr)
		if tt.inErr == "" {
			if err != nil {
				t.Errorf("CheckAddr(%q) = %v, want nil", tt.addr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.inErr) {
			t.Errorf("CheckAddr(%q) = %v, want error containing %q", tt.addr, err, tt.inErr)
		}
	}
}

func TestCheckCIDRAndIP(t *testing.T) {
	tests := []struct {
		check func(string) error
		in    string
		inErr string // "" = valid
	}{
		{CheckCIDR, "10.0.0.0/8", ""}, {CheckCIDR, "192.168.0.0/16", ""}, {CheckCIDR, "fd00::/8", ""},
		{CheckCIDR, "corp-net", `"corp-net" is not a CIDR range`},
		{CheckCIDR, "intra", `"intra" is not a CIDR range`},
		{CheckCIDR, "", `"" is not a CIDR range`},
		{CheckCIDR, "10.0.0.0", `"10.0.0.0" has no /mask`},
		{CheckCIDR, "10.1.2.3/8", `"10.1.2.3/8" has host bits set: PostgreSQL matches it as 10.0.0.0/8`},
		{CheckCIDR, "fd00::1/8", "host bits set: PostgreSQL matches it as fd00::/8"},
		{CheckCIDR, "10.0.0.0/33", "invalid CIDR mask /33"},
		{CheckCIDR, "010.0.0.0/8", "leading zero"},
		{CheckCIDR, "::1", "is not a CIDR range"},
		{CheckIP, "10.10.10.10", ""},
		{CheckIP, "10.10.10.10/32", `"10.10.10.10/32" has a /mask: the admin alias appends /32`},
		{CheckIP, "admin.corp", `"admin.corp" is not an IPv4 address`},
		{CheckIP, "::1", `"::1" is not an IPv4 address`},
		{CheckIP, "10.10.10.256", "octet 256 is out of range"},
	}
	for _, tt := range tests {
		err := tt.check(tt.in)
		if tt.inErr == "" {
			if err != nil {
				t.Errorf("check(%q) = %v, want nil", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.inErr) {
			t.Errorf("check(%q) = %v, want error containing %q", tt.in, err, tt.inErr)
		}
	}
}

func TestCheckAuth(t *testing.T) {
	for _, a := range append(authAliasNames(), "") {
		if err := CheckAuth(a); err != nil {
			t.Errorf("CheckAuth(%q) = %v", a, err)
		}
	}
	for _, a := range []string{"ldap", "password", "SSL", "scram", "gss"} {
		err := CheckAuth(a)
		if err == nil || !strings.Contains(err.Error(), "unknown auth alias") || !strings.Contains(err.Error(), "raw rules") {
			t.Errorf("CheckAuth(%q) = %v, want unknown alias error", a, err)
		}
	}
}

func TestCheckRule(t *testing.T) {
	const ok, warn, fail = 0, 1, 2
	tests := []struct {
		name  string
		rule  model.HBARule
		want  int
		inErr string
	}{
		{"plain", model.HBARule{Addr: "intra"}, ok, ""},
		{"pigsty dbsu", model.HBARule{User: "${dbsu}", Addr: "local", Auth: "ident"}, ok, ""},
		{"peer local", model.HBARule{Addr: "local", Auth: "peer"}, ok, ""},
		{"cert world", model.HBARule{Addr: "world", Auth: "cert"}, ok, ""},
		{"comma list", model.HBARule{User: "a,b", DB: `app,"my db"`, Addr: "intra"}, ok, ""},
		{"raw", model.HBARule{Rules: []string{"host all all 10.0.0.0/8 md5", "# note", ""}}, ok, ""},
		{"every role", model.HBARule{Addr: "world", Role: "delayed"}, ok, ""},

		{"cert local", model.HBARule{Addr: "local", Auth: "cert"}, fail, "cert needs hostssl"},
		{"cert localhost", model.HBARule{Addr: "localhost", Auth: "cert"}, fail, "cert needs hostssl"},
		{"peer tcp", model.HBARule{Addr: "intra", Auth: "peer"}, fail, "peer only on Unix sockets"},
		{"peer localhost", model.HBARule{Addr: "localhost", Auth: "peer"}, fail, "peer only on Unix sockets"},
		{"ssl local", model.HBARule{Addr: "local", Auth: "ssl"}, warn, "SSL is not enforced"},
		{"ssl-sha localhost", model.HBARule{Addr: "localhost", Auth: "ssl-sha"}, warn, "SSL is not enforced"},
		{"ident tcp", model.HBARule{Addr: "intra", Auth: "ident"}, warn, "RFC 1413"},
		{"os localhost", model.HBARule{Addr: "localhost", Auth: "os"}, warn, "RFC 1413"},
		{"fields beside rules", model.HBARule{Rules: []string{"local all all peer"}, Addr: "world"}, warn, "ignored"},
		{"unknown role", model.HBARule{Addr: "world", Role: "leader"}, fail, `invalid hba role "leader"`},
		{"unknown addr", model.HBARule{Addr: "dmz"}, fail, `unknown addr alias "dmz"`},
		{"unknown auth", model.HBARule{Addr: "world", Auth: "radius"}, fail, `unknown auth alias "radius"`},
		{"bare ip", model.HBARule{Addr: "10.1.2.3"}, fail, "has no /mask"},
		{"nothing", model.HBARule{User: "x"}, fail, "neither addr nor rules"},
		{"user blank", model.HBARule{Addr: "world", User: "a b"}, fail, "not a single pg_hba.conf field"},
		{"title newline", model.HBARule{Addr: "world", Title: "a\nb"}, fail, "control character"},
		{"raw bad", model.HBARule{Rules: []string{"host all all 10.1.2.3 md5"}}, fail, `rules[0]: pg_hba.conf line "host all all 10.1.2.3 md5": invalid IP mask "md5"`},
		{"raw continuation", model.HBARule{Rules: []string{`local all all peer \`}}, fail, "backslash"},
		{"warning and error", model.HBARule{Addr: "intra", Auth: "ident", Role: "x"}, fail, "invalid hba role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRule(tt.rule)
			switch {
			case tt.want == ok && err != nil:
				t.Fatalf("CheckRule = %v, want nil", err)
			case tt.want == ok:
				return
			case err == nil:
				t.Fatalf("CheckRule = nil, want %q", tt.inErr)
			case !strings.Contains(err.Error(), tt.inErr):
				t.Errorf("CheckRule = %v, want it to contain %q", err, tt.inErr)
			}
			if IsWarning(err) != (tt.want == warn) {
				t.Errorf("IsWarning(%v) = %v", err, IsWarning(err))
			}
		})
	}
}

func TestParseRawLine(t *testing.T) {
	l, err := ParseRawLine(`host "my db" all 10.0.0.0 255.255.0.0 md5 # trailing comment`)
	if err != nil || l == nil || l.String() != `host  "my db"  all  10.0.0.0/16  md5` || l.Number != 0 {
		t.Errorf("ParseRawLine = %v, %v", l, err)
	}
	for _, s := range []string{"", "   ", "# only a comment"} {
		if l, err := ParseRawLine(s); l != nil || err != nil {
			t.Errorf("ParseRawLine(%q) = %v, %v; want nil, nil", s, l, err)
		}
	}
	for s, inErr := range map[string]string{
		"host all all 10.0.0.0/8":            "end-of-line before authentication method",
		"hostssl all all 10.0.0.0/8 md5 x=1": "unrecognized authentication option name",
		"local all all md5\rhost":            "line break",
		"local all all md5 \\":               "backslash",
		"host all all 10.0.0.0/8 peer":       "peer authentication is only supported on local sockets",
	} {
		if _, err := ParseRawLine(s); err == nil || !strings.Contains(err.Error(), inErr) {
			t.Errorf("ParseRawLine(%q) = %v, want %q", s, err, inErr)
		}
	}
}
