package source

import (
	"strings"
	"testing"
	"time"
)

// edPub is an ed25519 public key (the one in testdata/fuzz), for parser tests.
const edPub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINbOho9tsFIX/4nOlcRkZlRPQRkI/GnAsC/Y6Lvicq4P"

func TestParseAllowedSigners(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	file := strings.Join([]string{
		"# comment",
		"",
		"   \t",
		"alice@example.com " + edPub + " alice's laptop",
		`"bob@example.com,*@ops.example.com" ` + edPub,
		`carol@example.com namespaces="git,file",valid-after="20240101",valid-before="202501021504Z" ` + edPub,
		`dave@example.com VALID-BEFORE="20250102150405UTC" ` + edPub + "\r",
	}, "\n")
	got, err := parseAllowedSigners("allowed", []byte(file), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []allowedSigner{
		{pos: "allowed:4", principals: "alice@example.com"},
		{pos: "allowed:5", principals: "bob@example.com,*@ops.example.com"},
		{pos: "allowed:6", principals: "carol@example.com", namespaces: "git,file", hasNS: true,
			validAfter: at("2024-01-01T00:00:00Z"), validUntil: at("2025-01-02T15:04:00Z")},
		{pos: "allowed:7", principals: "dave@example.com", validUntil: at("2025-01-02T15:04:05Z")},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d lines, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.key == nil || g.key.Type() != "ssh-ed25519" {
			t.Errorf("line %d: key %v", i, g.key)
		}
		g.key = nil
		if g != w {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestParseAllowedSignersErrorsNameTheLine(t *testing.T) {
	for line, msg := range map[string]string{
		"alice@example.com":                                                        "missing key",
		"alice@example.com   ":                                                     "missing key",
		`"alice@example.com ` + edPub:                                              "unterminated quoted principals",
		`"alice"x ` + edPub:                                                        "no space after quoted principals",
		`"" ` + edPub:                                                              "empty principals",
		"alice@example.com ssh-ed25519 AAAA":                                       "invalid key",
		"alice@example.com cert-authority " + edPub:                                "cert-authority is not supported",
		"alice@example.com no-touch-required " + edPub:                             `unsupported option "no-touch-required"`,
		`alice@example.com from="10.0.0.1" ` + edPub:                               `unsupported option "from"`,
		`alice@example.com namespaces=git ` + edPub:                                "must be in double quotes",
		`alice@example.com valid-after="2024" ` + edPub:                            "invalid valid-after time",
		`alice@example.com valid-before="20241301" ` + edPub:                       "invalid valid-before time",
		`alice@example.com valid-before="2024010x" ` + edPub:                       "invalid valid-before time",
		`alice@example.com valid-after="19700101Z" ` + edPub:                       "not after 1970",
		`alice@example.com valid-after="20240101",valid-after="20250101" ` + edPub: "given twice",
	} {
		_, err := parseAllowedSigners("/etc/reconciler/allowed_signers", []byte("# first\n"+line+"\n"), time.UTC)
		if err == nil {
			t.Errorf("%q accepted", line)
			continue
		}
		if !strings.Contains(err.Error(), "/etc/reconciler/allowed_signers:2: ") || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %q, want file:line and %q", line, err, msg)
		}
	}
}

// Every bad line of a file is reported in one error, not only the first.
func TestParseAllowedSignersEveryBadLine(t *testing.T) {
	_, err := parseAllowedSigners("as", []byte("a ssh-ed25519 AAAA\nb "+edPub+"\nc cert-authority "+edPub+"\n"), time.UTC)
	if err == nil || !strings.Contains(err.Error(), "as:1: invalid key") || !strings.Contains(err.Error(), "as:3: cert-authority") || strings.Contains(err.Error(), "as:2") {
		t.Fatalf("error %v, want lines 1 and 3", err)
	}
}

func TestParseSSHTimeZones(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	for in, want := range map[string]string{
		"20240615":          "2024-06-15T00:00:00+09:00",
		"202406152130":      "2024-06-15T21:30:00+09:00",
		"20240615213059":    "2024-06-15T21:30:59+09:00",
		"20240615Z":         "2024-06-15T00:00:00Z",
		"20240615213059z":   "2024-06-15T21:30:59Z",
		"202406152130utc":   "2024-06-15T21:30:00Z",
		"20240615213059UTC": "2024-06-15T21:30:59Z",
	} {
		got, err := parseSSHTime(in, tokyo)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if w, _ := time.Parse(time.RFC3339, want); !got.Equal(w) {
			t.Errorf("%s = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{"", "Z", "2024061", "2024061521", "+2024061", "20240230", "20240615246000", "20240615 213059"} {
		if _, err := parseSSHTime(in, tokyo); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestMatchPatternList(t *testing.T) {
	for _, tc := range []struct {
		s, list string
		want    int
	}{
		{"git", "git", 1},
		{"git", "file,git", 1},
		{"git", "file", 0},
		{"git", "", 0},
		{"git", "g*", 1},
		{"git", "g?t", 1},
		{"git", "g?", 0},
		{"git", "*,!git", -1},
		{"git", "!git,*", -1},
		{"git", "!file", 0},
		{"git", "*", 1},
		{"git", "**i*", 1},
		{"git", "file, git", 0}, // no trimming, as in OpenSSH
		{"GIT", "git", 0},       // case-sensitive
	} {
		if got := matchPatternList(tc.s, tc.list); got != tc.want {
			t.Errorf("matchPatternList(%q, %q) = %d, want %d", tc.s, tc.list, got, tc.want)
		}
	}
}

func TestLoadTrustErrors(t *testing.T) {
	dir := t.TempDir()
	empty := dir + "/empty"
	writeFile(t, empty, "# nobody\n")
	if _, err := LoadTrust(TrustFiles{AllowedSigners: empty}); err == nil || !strings.Contains(err.Error(), "no trusted key") {
		t.Errorf("empty trust: %v", err)
	}
	if _, err := LoadTrust(TrustFiles{AllowedSigners: dir + "/missing"}); err == nil {
		t.Error("missing file accepted")
	}
	bad := dir + "/bad.asc"
	writeFile(t, bad, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----\n")
	if _, err := LoadTrust(TrustFiles{PGPKeys: []string{bad}}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad key file: %v", err)
	}
}
