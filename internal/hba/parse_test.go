package hba

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// lineCase is one pg_hba.conf line PostgreSQL 15 accepts and its
// canonical String.
type lineCase struct{ in, want string }

// goodLines are shared with the oracle test, which checks each against
// pg_hba_file_rules.
func goodLines() []lineCase {
	return []lineCase{
		{"local all all trust", "local  all  all  trust"},
		{"  local\tall all trust  # comment", "local  all  all  trust"},
		{"local all all trust#comment", "local  all  all  trust"},
		{"local all all ident", "local  all  all  peer"},
		{"host all all 0.0.0.0/0 ident", "host  all  all  0.0.0.0/0  ident"},
		// quoting
		{`local "all" all trust`, `local  "all"  all  trust`},
		{`local all "all" trust`, `local  all  "all"  trust`},
		{`local "app" "bob" trust`, "local  app  bob  trust"},
		{`local "my db" "a""b" trust`, `local  "my db"  "a""b"  trust`},
		{`local a""b all trust`, "local  ab  all  trust"},
		{`local a"b c" all trust`, `local  "ab c"  all  trust`},
		{`local "" all trust`, `local  ""  all  trust`},
		{`local "replication" "+grp" trust`, `local  "replication"  "+grp"  trust`},
		{`local replication +grp trust`, "local  replication  +grp  trust"},
		{`local all +"my group" trust`, `local  all  +"my group"  trust`},
		{`local "+x" all trust`, "local  +x  all  trust"}, // + means nothing in the database column
		{`"local" all all "trust"`, "local  all  all  trust"},
		{`local all all "trust`, "local  all  all  trust"},
		// keywords and @file
		{"local samegroup all trust", "local  samerole  all  trust"},
		{`local "samegroup" all trust`, `local  "samegroup"  all  trust`},
		{"local sameuser,samerole all trust", "local  sameuser,samerole  all  trust"},
		{"local @dbs.txt @users trust", "local  @dbs.txt  @users  trust"},
		{`local "@dbs" @ trust`, `local  "@dbs"  @  trust`},
		// comma lists
		{"local a,b,c x,y trust", "local  a,b,c  x,y  trust"},
		{"local a, b x trust", "local  a,b  x  trust"},
		{"local a,,b x trust,", "local  a,b  x  trust"},
		{"local a,b x, y trust", "local  a,b  x,y  trust"},
		{`local "a,b",c x trust`, `local  "a,b",c  x  trust`},
		// addresses
		{"host all all 10.1.2.3/8 md5", "host  all  all  10.0.0.0/8  md5"},
		{"host all all 10.0.0.0 255.0.0.0 md5", "host  all  all  10.0.0.0/8  md5"},
		{"host all all 10.1.2.3 255.255.255.255 md5", "host  all  all  10.1.2.3/32  md5"},
		{"host all all 10.1.2.3 255.0.255.0 md5", "host  all  all  10.0.2.0 255.0.255.0  md5"},
		{"host all all 10.0.0.0/0 md5", "host  all  all  0.0.0.0/0  md5"},
		{"host all all 10.0.0.0/+8 md5", "host  all  all  10.0.0.0/8  md5"},
		{"host all all 10.0.0.0/08 md5", "host  all  all  10.0.0.0/8  md5"},
		{"host all all ::1/128 md5", "host  all  all  ::1/128  md5"},
		{"host all all fe80::1/64 md5", "host  all  all  fe80::/64  md5"},
		{"host all all fe80::1%lo/64 md5", "host  all  all  fe80::/64  md5"},
		{"host all all ::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff md5", "host  all  all  ::1/128  md5"},
		{"host all all ::ffff:10.0.0.1/128 md5", "host  all  all  ::ffff:10.0.0.1/128  md5"},
		{"host all all 0/0 md5", "host  all  all  0.0.0.0/0  md5"},
		{"host all all 010.1.2.3/32 md5", "host  all  all  8.1.2.3/32  md5"},
		{"host all all 0x0a.1.2.3/32 md5", "host  all  all  10.1.2.3/32  md5"},
		{"host all all 10.1/32 md5", "host  all  all  10.0.0.1/32  md5"},
		{"host all all 167772161/32 md5", "host  all  all  10.0.0.1/32  md5"},
		{"host all all all md5", "host  all  all  all  md5"},
		{"host all all samehost md5", "host  all  all  samehost  md5"},
		{"host all all samenet md5", "host  all  all  samenet  md5"},
		{`host all all "samenet" md5`, `host  all  all  "samenet"  md5`},
		{"host all all .example.com md5", "host  all  all  .example.com  md5"},
		{"host all all db1.example.com md5", "host  all  all  db1.example.com  md5"},
		{"host all all 1.2.3.256 md5", "host  all  all  1.2.3.256  md5"},
		// types and options
		{"hostssl all all 0.0.0.0/0 cert", "hostssl  all  all  0.0.0.0/0  cert"},
		{"hostssl all all 0.0.0.0/0 cert clientcert=verify-full", "hostssl  all  all  0.0.0.0/0  cert"},
		{"hostssl all all 0.0.0.0/0 md5 clientcert=verify-ca", "hostssl  all  all  0.0.0.0/0  md5  clientcert=verify-ca"},
		{"hostssl all all 0.0.0.0/0 cert clientname=CN map=m", "hostssl  all  all  0.0.0.0/0  cert  map=m"},
		{"hostnossl all all 0.0.0.0/0 md5", "hostnossl  all  all  0.0.0.0/0  md5"},
		{"hostgssenc all all 0.0.0.0/0 gss", "hostgssenc  all  all  0.0.0.0/0  gss"},
		{"hostnogssenc all all 0.0.0.0/0 password", "hostnogssenc  all  all  0.0.0.0/0  password"},
		{"host all all 0.0.0.0/0 gss include_realm=1 krb_realm=X", "host  all  all  0.0.0.0/0  gss  krb_realm=X"},
		{"host all all 0.0.0.0/0 gss include_realm=0", "host  all  all  0.0.0.0/0  gss  include_realm=0"},
		{"host all all 0.0.0.0/0 gss include_realm=true", "host  all  all  0.0.0.0/0  gss  include_realm=0"},
		{"host all all 0.0.0.0/0 ident map=a map=b", "host  all  all  0.0.0.0/0  ident  map=b"},
		{`host all all 0.0.0.0/0 ident map="a b"`, `host  all  all  0.0.0.0/0  ident  "map=a b"`},
		{"host all all 0.0.0.0/0 ident map=", "host  all  all  0.0.0.0/0  ident  map="},
		{"host all all 0.0.0.0/0 pam pamservice=x pam_use_hostname=1", "host  all  all  0.0.0.0/0  pam  pam_use_hostname=1  pamservice=x"},
		{"host all all 0.0.0.0/0 ldap ldapserver=x ldapbasedn=y ldapport=0389 ldapbindpasswd=s3cret",
			"host  all  all  0.0.0.0/0  ldap  ldapbasedn=y  ldapbindpasswd=<redacted>  ldapport=389  ldapserver=x"},
		{"host all all 0.0.0.0/0 scram-sha-256\r", "host  all  all  0.0.0.0/0  scram-sha-256"},
		{"host all all 0.0.0.0/0 md5\x00 garbage", "host  all  all  0.0.0.0/0  md5"},
	}
}

func TestParseLines(t *testing.T) {
	for _, tt := range goodLines() {
		lines, errs := Parse(tt.in)
		if len(errs) > 0 || len(lines) != 1 {
			t.Errorf("Parse(%q) = %v, %v", tt.in, lines, errs)
			continue
		}
		if got := lines[0].String(); got != tt.want || lines[0].Number != 1 {
			t.Errorf("Parse(%q) = %q (line %d), want %q", tt.in, got, lines[0].Number, tt.want)
		}
	}
}

func TestParseStructure(t *testing.T) {
	text := "# header\n\nlocal all all trust\nhost all all 10.0.0.0/8 \\\n  md5\n# comment \\\nhost all all 1.1.1.1/32 md5\nhost all all 10.1.0.0 \\\n 255.255.0.0 trust\nlocal all all peer\\"
	lines, errs := Parse(text)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.String()+" @"+strconv.Itoa(l.Number))
	}
	want := []string{
		"local  all  all  trust @3",
		"host  all  all  10.0.0.0/8  md5 @4", // continued on line 5
		// line 6 is a comment continued on line 7: both are comment
		"host  all  all  10.1.0.0/16  trust @8",
		"local  all  all  peer @10", // a final backslash at EOF ends the record
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	l := lines[1]
	if l.Type != Host || l.Address.Kind != AddrIP || l.Address.Prefix != netip.MustParsePrefix("10.0.0.0/8") || l.Method != "md5" {
		t.Errorf("structured line = %+v", l)
	}
}

// badLines maps lines PostgreSQL 15 rejects to its message in
// pg_hba_file_rules.error; shared with the oracle test, which checks that
// the server agrees (except for @file, which it would try to read).
func badLines() map[string]string {
	return map[string]string{
		"hots all all 0.0.0.0/0 md5":                          `invalid connection type "hots"`,
		"HOST all all 0.0.0.0/0 md5":                          `invalid connection type "HOST"`,
		"host,local all all 0.0.0.0/0 md5":                    "multiple values specified for connection type",
		"host":                                                "end-of-line before database specification",
		"host all":                                            "end-of-line before role specification",
		"host all all":                                        "end-of-line before IP address specification",
		"host all all 10.0.0.0/8":                             "end-of-line before authentication method",
		"local all all":                                       "end-of-line before authentication method",
		"host all all 10.0.0.0/8,10.1.0.0/16 md5":             "multiple values specified for host address",
		"host all all 10.0.0.0/33 md5":                        `invalid CIDR mask in address "10.0.0.0/33"`,
		"host all all ::/129 md5":                             `invalid CIDR mask in address "::/129"`,
		"host all all 10.0.0.0/-1 md5":                        `invalid CIDR mask in address "10.0.0.0/-1"`,
		"host all all foo/8 md5":                              `specifying both host name and CIDR mask is invalid: "foo/8"`,
		"host all all 10.1.2.3 md5":                           `invalid IP mask "md5": Name or service not known`,
		"host all all 10.1.2.3":                               "end-of-line before netmask specification",
		"host all all ::1 255.255.255.255 md5":                "IP address and mask do not match",
		"host all all 10.0.0.0 255.0.0.0,1.1.1.1 md5":         "multiple values specified for netmask",
		"host all all 0.0.0.0/0 MD5":                          `invalid authentication method "MD5"`,
		"host all all 0.0.0.0/0 bsd":                          `invalid authentication method "bsd": not supported by this build`,
		"host all all 0.0.0.0/0 md5,trust":                    "multiple values specified for authentication type",
		"host all all 0.0.0.0/0 peer":                         "peer authentication is only supported on local sockets",
		"host all all 0.0.0.0/0 cert":                         "cert authentication is only supported on hostssl connections",
		"local all all gss":                                   "gssapi authentication is not supported on local sockets",
		"local all all cert":                                  "cert authentication is only supported on hostssl connections",
		"host all all 0.0.0.0/0 md5 foo":                      "authentication option not in name=value format: foo",
		"host all all 0.0.0.0/0 md5 map=x":                    `authentication option "map" is only valid for authentication methods ident, peer, gssapi, sspi, and cert`,
		"host all all 0.0.0.0/0 ident =x":                     `unrecognized authentication option name: ""`,
		"host all all 0.0.0.0/0 md5 clientcert=verify-ca":     `clientcert can only be configured for "hostssl" rows`,
		"hostssl all all 0.0.0.0/0 cert clientcert=verify-ca": `clientcert can only be set to "verify-full" when using "cert" authentication`,
		"hostssl all all 0.0.0.0/0 md5 clientcert=1":          `invalid value for clientcert: "1"`,
		"host all all 0.0.0.0/0 ldap":                         `authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`,
		"host all all 0.0.0.0/0 radius":                       `authentication method "radius" requires argument "radiusservers" to be set`,
		"host all all 0.0.0.0/0 md5 include_realm=1":          `authentication option "include_realm" is only valid for authentication methods gssapi and sspi`,
		"host all all @addrs md5":                             `file inclusion "@addrs" outside the database and user columns is not supported`,
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range badLines() {
		lines, errs := Parse("local all all trust\n" + in + "\nlocal all all peer\n")
		if len(lines) != 2 || len(errs) != 1 {
			t.Errorf("Parse(%q): %d lines, errors %v; want 2 lines and 1 error", in, len(lines), errs)
			continue
		}
		pe := errs[0].(*ParseError)
		if pe.Line != 2 || pe.Msg != want {
			t.Errorf("Parse(%q) error = %v, want line 2: %s", in, pe, want)
		}
	}
}

func TestFromRow(t *testing.T) {
	tests := []struct {
		row  model.HBARow
		text string // parsed and compared with Equal
	}{
		{model.HBARow{Type: "local", Database: []string{"all"}, User: []string{"all"}, AuthMethod: "peer"}, "local all all ident"},
		{model.HBARow{Type: "host", Database: []string{"all", "x y"}, User: []string{"+grp", "bob"}, Address: "10.1.2.3", Netmask: "255.0.0.0", AuthMethod: "md5"},
			`host all,"x y" +grp,bob 10.0.0.0/8 md5`},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "10.0.0.0", Netmask: "255.0.255.0", AuthMethod: "md5"},
			"host all all 10.0.0.0 255.0.255.0 md5"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "::1", Netmask: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AuthMethod: "md5"},
			"host all all ::1/128 md5"},
		{model.HBARow{Type: "host", Database: []string{"replication"}, User: []string{"all"}, Address: "samenet", AuthMethod: "md5"}, "host replication all samenet md5"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: ".example.com", AuthMethod: "md5"}, "host all all .example.com md5"},
		{model.HBARow{Type: "hostssl", Database: []string{"all"}, User: []string{"all"}, Address: "0.0.0.0", Netmask: "0.0.0.0", AuthMethod: "cert", Options: []string{"clientcert=verify-full"}},
			"hostssl all all 0.0.0.0/0 cert"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "0.0.0.0", Netmask: "0.0.0.0", AuthMethod: "gss", Options: []string{"include_realm=true", "krb_realm=X"}},
			"host all all 0.0.0.0/0 gss krb_realm=X"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "0.0.0.0", Netmask: "0.0.0.0", AuthMethod: "gss"},
			"host all all 0.0.0.0/0 gss include_realm=0"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "0.0.0.0", Netmask: "0.0.0.0", AuthMethod: "ldap",
			Options: []string{"ldapserver=x", "ldapport=389", "ldaptls=true", "ldapbasedn=y", "ldapscope=2"}},
			"host all all 0.0.0.0/0 ldap ldapserver=x ldapbasedn=y ldaptls=1 ldapport=0389"},
		{model.HBARow{Type: "host", Database: []string{"all"}, User: []string{"all"}, Address: "0.0.0.0", Netmask: "0.0.0.0", AuthMethod: "ident", Options: []string{"map=a b"}},
			`host all all 0.0.0.0/0 ident "map=a b"`},
	}
	for _, tt := range tests {
		want, errs := Parse(tt.text)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if got := FromRow(tt.row); !Equal(got, want[0]) {
			t.Errorf("FromRow(%+v) = %q, want %q", tt.row, got, want[0])
		}
	}
	for _, r := range []model.HBARow{
		{Line: 7, Error: "invalid connection type"},
		{Line: 7}, // rejected without a message
	} {
		if l := FromRow(r); l.Number != 7 || l.Type != "" || RowError(r) == "" {
			t.Errorf("error row %+v: FromRow = %+v, RowError = %q", r, l, RowError(r))
		}
	}
	if e := RowError(tests[0].row); e != "" {
		t.Errorf("RowError of a good row = %q", e)
	}
}

func TestKeyHidesSecrets(t *testing.T) {
	a, _ := Parse("host all all 0.0.0.0/0 ldap ldapserver=x ldapbasedn=y ldapbindpasswd=one")
	b, _ := Parse("host all all 0.0.0.0/0 ldap ldapserver=x ldapbasedn=y ldapbindpasswd=two")
	if Equal(a[0], b[0]) {
		t.Error("lines differing in ldapbindpasswd are Equal")
	}
	for _, s := range []string{a[0].Key(), a[0].String()} {
		if strings.Contains(s, "one") {
			t.Errorf("%q shows the secret", s)
		}
	}
	if !strings.Contains(a[0].text(), "ldapbindpasswd=one") {
		t.Errorf("text() = %q, want the secret", a[0].text())
	}
	r, _ := Parse("host all all 0.0.0.0/0 radius radiusservers=a radiussecrets=s3cret")
	if got := r[0].String(); got != "host  all  all  0.0.0.0/0  radius  radiussecrets=<redacted>  radiusservers=a" {
		t.Errorf("String() = %q", got)
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"host all all 0.0.0.0/0 ldap ldapbasedn=y ldapbindpasswd=s3cret ldapserver=x": "host all all 0.0.0.0/0 ldap ldapbasedn=y ldapbindpasswd=<redacted> ldapserver=x",
		`host all all 0.0.0.0/0 ldap ldapbindpasswd="s3 cret" ldapserver=x`:           "host all all 0.0.0.0/0 ldap ldapbindpasswd=<redacted> ldapserver=x",
		"host all all 0.0.0.0/0 radius radiusservers=a,b radiussecrets=s1,s2":         "host all all 0.0.0.0/0 radius radiusservers=a,b radiussecrets=<redacted>",
		"host all all 0.0.0.0/0 ldap ldapbindpasswd= s3cret":                          "host all all 0.0.0.0/0 ldap ldapbindpasswd= <redacted>",
		"host all all 0.0.0.0/0 ldap ldapbindpasswd = s3cret":                         "host all all 0.0.0.0/0 ldap ldapbindpasswd = <redacted>",
		"host all all 0.0.0.0/0 ldap LDAPBindPasswd=s3cret":                           "host all all 0.0.0.0/0 ldap LDAPBindPasswd=<redacted>",
		"# old: ldapbindpasswd=s3cret":                                                "# old: ldapbindpasswd=<redacted>",
		"host all all 0.0.0.0/0 ldap ldapbindpasswd=":                                 "host all all 0.0.0.0/0 ldap ldapbindpasswd=",
		"host all all 0.0.0.0/0 md5":                                                  "host all all 0.0.0.0/0 md5",
		"host \u0130\u0130 all 0.0.0.0/0 ldap ldapbindpasswd=s3cret":                  "host \u0130\u0130 all 0.0.0.0/0 ldap ldapbindpasswd=<redacted>",
	} {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A raw line's error quotes the line, and PostgreSQL's message may quote a
// token of it: neither shows a secret option's value.
func TestParseRawLineHidesSecrets(t *testing.T) {
	for _, s := range []string{
		"host all all 0.0.0.0/0 ldap ldapbindpasswd=s3cret",                          // no ldapbasedn
		"host all all 0.0.0.0/0 ldap ldapbasedn=y ldapbindpasswd= s3cret",            // split value
		"host all all 0.0.0.0/0 radius radiusservers=a radiussecrets=x,s3cret bogus", // split list
		"host all all 0.0.0.0/0 ldap ldapbasedn=y ldapbindpasswd=s3cret\rhost",
		"host all all 0.0.0.0/0 ldap ldapbasedn=y ldapbindpasswd=s3cret \\",
	} {
		_, err := ParseRawLine(s)
		if err == nil {
			t.Errorf("ParseRawLine(%q) accepted", s)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseRawLine(%q) = %v: shows the secret", s, err)
		}
	}
}
