package pgconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// onVersion is a pg15 fixture row as PostgreSQL major reports it.
func onVersion(name string, major int) *model.LiveSetting {
	s := pg15(name)
	s.Version = major*10000 + 1
	return s
}

// TestVersionRules: what differs between majors, in the pure functions
// (the oracle test checks each against its server).
func TestVersionRules(t *testing.T) {
	// Keywords: json is one from 17, system_user from 16.
	for _, tc := range []struct {
		major int
		value string
		want  string
	}{
		{15, "json, system_user, public", "json, system_user, public"},
		{16, "json, system_user, public", `json, "system_user", public`},
		{17, "json, system_user, public", `"json", "system_user", public`},
		{18, "json, public", `"json", public`},
	} {
		got, err := Normalize(tc.value, onVersion("search_path", tc.major))
		if err != nil || got != tc.want {
			t.Errorf("PostgreSQL %d: search_path %q shows as %q (%v), want %q", tc.major, tc.value, got, err, tc.want)
		}
	}
	// Range errors carry the unit from 17.
	for major, want := range map[int]string{
		16: `32 kB is outside the valid range for parameter "work_mem" (64 .. 2147483647)`,
		17: `32 kB is outside the valid range for parameter "work_mem" (64 kB .. 2147483647 kB)`,
	} {
		if err := Validate("32kB", onVersion("work_mem", major)); err == nil || err.Error() != want {
			t.Errorf("PostgreSQL %d: work_mem 32kB refused as %v, want %s", major, err, want)
		}
	}
	// unix_socket_directories is one string in 13, a list from 14.
	if got := QuoteSetting("/a, /b", onVersion("unix_socket_directories", 13)); got != "'/a, /b'" {
		t.Errorf("PostgreSQL 13: unix_socket_directories quoted as %s", got)
	}
	if got := QuoteSetting("/a, /b", onVersion("unix_socket_directories", 14)); got != "'/a', '/b'" {
		t.Errorf("PostgreSQL 14: unix_socket_directories quoted as %s", got)
	}
	// PostgreSQL 13 reads the pre-10 Boolean spellings of
	// password_encryption as md5; 14 refuses them.
	pe := &model.LiveSetting{Name: "password_encryption", VarType: "enum", Context: "user",
		EnumVals: []string{"md5", "scram-sha-256"}, Version: 130023}
	if got, err := Normalize("TRUE", pe); err != nil || got != "md5" {
		t.Errorf("PostgreSQL 13: password_encryption TRUE shows as %q (%v), want md5", got, err)
	}
	pe.Version = 140000
	if _, err := Normalize("on", pe); err == nil {
		t.Error("PostgreSQL 14: password_encryption on accepted")
	}
}

// TestLogConnections18: PostgreSQL 18's log_connections lists aspects;
// "on" keeps its meaning, so a spec written for 17 is in sync on 18.
func TestLogConnections18(t *testing.T) {
	s := &model.LiveSetting{Name: "log_connections", VarType: "string", Context: "superuser-backend", Version: 180004}
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"on", "receipt,authentication,authorization", true},
		{"true", " Authorization , RECEIPT,authentication", true},
		{"all", "receipt,authentication,authorization,setup_durations", true},
		{"all", "on", false},
		{"off", "", true},
		{"0", "receipt", false},
		{`"receipt"`, "receipt", true},
		{"on", "receipt,authentication", false},
		{"bogus", "bogus", true}, // neither parses: compared as written
	} {
		if got := Equal(tc.a, tc.b, s); got != tc.equal {
			t.Errorf("Equal(%q, %q) = %t, want %t", tc.a, tc.b, got, tc.equal)
		}
	}
	for value, detail := range map[string]string{
		"maybe":                   `Invalid option "maybe".`,
		"on,receipt":              `Cannot specify log_connections option "on" in a list with other options.`,
		"receipt,,authentication": `Invalid list syntax in parameter "log_connections".`,
	} {
		err := Validate(value, s)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Detail != detail || !strings.Contains(e.Message, `"`+value+`"`) {
			t.Errorf("Validate(%q) = %v, want detail %s", value, err, detail)
		}
	}
	for _, ok := range []string{"", "on", "OFF", "receipt, setup_durations", "all"} {
		if err := Validate(ok, s); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	// 17's log_connections is a Boolean.
	if err := Validate("receipt", onVersion("log_connections", 17)); err == nil {
		t.Error("PostgreSQL 17: log_connections = receipt accepted")
	}
}
