package patroni

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// pigstyExpect is what the inventory of testdata/pigsty-patroni.yml renders.
func pigstyExpect(ssl bool) model.PatroniExpect {
	return model.PatroniExpect{
		SSL:       ssl,
		Username:  "postgres",
		Allowlist: []string{"10.10.10.10", "10.10.10.11", "10.10.10.12", "10.10.10.13"},
		Members:   []string{"10.10.10.11", "10.10.10.12", "10.10.10.13"},
	}
}

func parseFile(t *testing.T, path string) model.PatroniSettings {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings("pg-test-1", b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseSettingsPigsty(t *testing.T) {
	s := parseFile(t, "testdata/pigsty-patroni.yml")
	if !s.FromFile || s.SSL || !s.AuthConfigured || s.Username != "postgres" || !s.CtlInsecure ||
		s.Listen != "10.10.10.11:8008" || len(s.Allowlist) != 4 {
		t.Fatalf("parsed %+v", s)
	}
	if got := CheckSettings(pigstyExpect(false), s); len(got) != 0 {
		t.Fatalf("Pigsty's own rendering has findings: %+v", got)
	}
	ssl := parseFile(t, "testdata/pigsty-patroni-ssl.yml")
	if !ssl.SSL || ssl.CAFile != "/pg/cert/ca.crt" || ssl.CtlInsecure || ssl.VerifyClient != "none" {
		t.Fatalf("parsed %+v", ssl)
	}
	if got := CheckSettings(pigstyExpect(true), ssl); len(got) != 0 {
		t.Fatalf("Pigsty's SSL rendering has findings: %+v", got)
	}
}

// The password is never kept, and a parse error does not show the file.
func TestParseSettingsKeepsNoSecret(t *testing.T) {
	b, _ := os.ReadFile("testdata/pigsty-patroni.yml")
	s, err := ParseSettings("pg-test-1", b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join([]string{s.Username, s.Listen, strings.Join(s.Allowlist, ",")}, " "), "Patroni.API") {
		t.Fatal("password kept")
	}
	_, err = ParseSettings("pg-test-1", []byte("restapi:\n  authentication:\n    password: 'Patroni.API'\n  allowlist: [unclosed\n"))
	if err == nil || !strings.Contains(err.Error(), "pg-test-1") || strings.Contains(err.Error(), "Patroni.API") {
		t.Fatalf("error = %v", err)
	}
}

func TestCheckSettings(t *testing.T) {
	base := func() model.PatroniSettings {
		return model.PatroniSettings{Instance: "pg-test-1", FromFile: true, AuthConfigured: true, Username: "postgres",
			Allowlist: []string{"10.10.10.10", "10.10.10.11", "10.10.10.12", "10.10.10.13"}, CtlInsecure: true}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*model.PatroniSettings)
		ssl    bool
		want   []model.PatroniSettingKind
		detail string // a word the first finding's detail must hold
	}{
		{name: "as rendered", edit: func(*model.PatroniSettings) {}},
		{name: "no allowlist", edit: func(s *model.PatroniSettings) { s.Allowlist = nil },
			want: []model.PatroniSettingKind{model.SettingAllowlistOpen}},
		{name: "members only through allowlist_include_members", edit: func(s *model.PatroniSettings) {
			s.Allowlist, s.AllowlistIncludeMembers = []string{"10.10.10.10"}, true
		}},
		{name: "a wide network", edit: func(s *model.PatroniSettings) { s.Allowlist = append(s.Allowlist, "0.0.0.0/0") },
			want: []model.PatroniSettingKind{model.SettingAllowlistExtra}, detail: "0.0.0.0/0"},
		{name: "a network that holds exactly the allowed addresses is still wider", edit: func(s *model.PatroniSettings) {
			s.Allowlist = []string{"10.10.10.0/24"}
		}, want: []model.PatroniSettingKind{model.SettingAllowlistExtra}, detail: "10.10.10.0/24"},
		{name: "/32 equals the address", edit: func(s *model.PatroniSettings) {
			s.Allowlist = []string{"10.10.10.10/32", "10.10.10.11", "10.10.10.12/32", " 10.10.10.13 "}
		}},
		{name: "the admin node missing", edit: func(s *model.PatroniSettings) { s.Allowlist = s.Allowlist[1:] },
			want: []model.PatroniSettingKind{model.SettingAllowlistMissing}, detail: "10.10.10.10"},
		{name: "a host name", edit: func(s *model.PatroniSettings) { s.Allowlist = append(s.Allowlist, "bastion.example") },
			want: []model.PatroniSettingKind{model.SettingAllowlistExtra}, detail: "bastion.example"},
		{name: "no authentication", edit: func(s *model.PatroniSettings) { s.AuthConfigured, s.Username = false, "" },
			want: []model.PatroniSettingKind{model.SettingAuthOff}},
		{name: "another user", edit: func(s *model.PatroniSettings) { s.Username = "admin" },
			want: []model.PatroniSettingKind{model.SettingAuthUser}, detail: "admin"},
		{name: "SSL expected", ssl: true, edit: func(s *model.PatroniSettings) {},
			want: []model.PatroniSettingKind{model.SettingSSL}},
		{name: "SSL with an insecure patronictl", ssl: true, edit: func(s *model.PatroniSettings) { s.SSL = true },
			want: []model.PatroniSettingKind{model.SettingCtlInsecure}},
		{name: "file not read, probe refused", edit: func(s *model.PatroniSettings) {
			*s = model.PatroniSettings{Instance: "pg-test-1", Probe: &model.PatroniProbe{}}
		}, want: []model.PatroniSettingKind{model.SettingNotAllowed}},
		{name: "probe let in without credentials", edit: func(s *model.PatroniSettings) {
			s.Probe = &model.PatroniProbe{Allowed: true, CredentialsAccepted: true}
		}, want: []model.PatroniSettingKind{model.SettingAuthOff}},
		{name: "probe: credentials refused", edit: func(s *model.PatroniSettings) {
			s.Probe = &model.PatroniProbe{Allowed: true, AuthEnforced: true}
		}, want: []model.PatroniSettingKind{model.SettingCredentials}},
		{name: "probe: all good", edit: func(s *model.PatroniSettings) {
			s.Probe = &model.PatroniProbe{Allowed: true, AuthEnforced: true, CredentialsAccepted: true}
		}},
		{name: "file says no auth and the probe agrees: one finding", edit: func(s *model.PatroniSettings) {
			s.AuthConfigured, s.Probe = false, &model.PatroniProbe{Allowed: true, CredentialsAccepted: true}
		}, want: []model.PatroniSettingKind{model.SettingAuthOff}},
		{name: "Patroni writes pg_hba.conf from postgresql.pg_hba", edit: func(s *model.PatroniSettings) { s.PgHBALines = 2 },
			want: []model.PatroniSettingKind{model.SettingPgHBA}, detail: "hba_file"},
		{name: "postgresql.pg_hba ignored: hba_file is set", edit: func(s *model.PatroniSettings) {
			s.PgHBALines, s.HBAFile = 2, "/pg/data/pg_hba.conf"
		}},
		{name: "file has SSL, the API answers on http (not reloaded)", ssl: true, edit: func(s *model.PatroniSettings) {
			s.SSL, s.CtlInsecure = true, false
			s.Probe = &model.PatroniProbe{Allowed: true, AuthEnforced: true, CredentialsAccepted: true}
		}, want: []model.PatroniSettingKind{model.SettingSSL}, detail: "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			got := CheckSettings(pigstyExpect(tc.ssl), s)
			var kinds []model.PatroniSettingKind
			for _, f := range got {
				kinds = append(kinds, f.Kind)
				if f.Instance != "pg-test-1" || f.Detail == "" {
					t.Errorf("finding %+v", f)
				}
			}
			if !slices.Equal(kinds, tc.want) {
				t.Fatalf("findings %v, want %v: %+v", kinds, tc.want, got)
			}
			if tc.detail != "" && !strings.Contains(got[0].Detail, tc.detail) {
				t.Errorf("detail %q does not name %s", got[0].Detail, tc.detail)
			}
		})
	}
}

// A patroni.yml that lists pg_hba lines makes Patroni the writer of
// pg_hba.conf at its next start (a failover, a restart), unless hba_file
// moves the file: both read from the file as Patroni reads it.
func TestParseSettingsPgHBA(t *testing.T) {
	b, err := os.ReadFile("testdata/pigsty-patroni.yml")
	if err != nil {
		t.Fatal(err)
	}
	if s := parseFile(t, "testdata/pigsty-patroni.yml"); s.PgHBALines != 0 {
		t.Fatalf("Pigsty's rendering has %d pg_hba lines", s.PgHBALines)
	}
	owned := string(b) + "\npostgresql:\n  pg_hba:\n    - host all all 0.0.0.0/0 md5\n    - local all all trust\n"
	s, err := ParseSettings("pg-test-1", []byte(owned))
	if err != nil {
		t.Fatal(err)
	}
	got := CheckSettings(pigstyExpect(false), s)
	if len(got) != 1 || got[0].Kind != model.SettingPgHBA || !strings.Contains(got[0].Detail, "2 postgresql.pg_hba lines") {
		t.Fatalf("findings %+v", got)
	}
	moved := owned + "  parameters:\n    hba_file: /etc/postgresql/pg_hba.conf\n"
	if s, err = ParseSettings("pg-test-1", []byte(moved)); err != nil {
		t.Fatal(err)
	}
	if got := CheckSettings(pigstyExpect(false), s); len(got) != 0 || s.HBAFile != "/etc/postgresql/pg_hba.conf" {
		t.Fatalf("with hba_file: %+v (hba_file %q)", got, s.HBAFile)
	}
}
