package spec

import (
	"fmt"
	"slices"
	"testing"
	"testing/fstest"
)

// TestPolicyJudgesEffectiveValues: the parameter policies judge the value
// an instance will run with: pg_parameters.shared_preload_libraries wins
// over pg_libs, and PostgreSQL 18's list form of log_connections is on.
func TestPolicyJudgesEffectiveValues(t *testing.T) {
	l := newTestLoader(t)
	for _, tc := range []struct {
		vars     string
		rule     string
		reported bool
	}{
		{`pg_libs: "passwordcheck, pg_stat_statements"`, "password-complexity", false},
		{`pg_libs: "passwordcheck", pg_parameters: shared_preload_libraries: "pg_stat_statements"`, "password-complexity", true},
		{`pg_libs: "pg_stat_statements", pg_parameters: shared_preload_libraries: "credcheck,pg_stat_statements"`, "password-complexity", false},
		{`pg_libs: "pg_stat_statements"`, "password-complexity", true},
		{`pg_parameters: log_connections: "receipt,authentication,authorization"`, "log-connections", false},
		{`pg_parameters: log_connections: "on"`, "log-connections", false},
		{`pg_parameters: log_connections: "off"`, "log-connections", true},
	} {
		fsys := fstest.MapFS{"c.cue": {Data: []byte(fmt.Sprintf(`package fleet

all: children: "pg-x": {
	hosts: "10.0.0.1": {pg_seq: 1, pg_role: "primary"}
	vars: pg_cluster: "pg-x"
	vars: {%s}
}
`, tc.vars))}}
		res, err := l.Load(fsys, Options{Profile: "strict"})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, p := range res.Problems {
			got = got || p.Rule == tc.rule
		}
		if got != tc.reported {
			t.Errorf("%s: %s reported %v, want %v\n%s", tc.vars, tc.rule, got, tc.reported, dump(res.Problems))
		}
	}
}

// TestPolicyGlobalPasswordOnce: a plaintext or md5 pg_admin_password is
// reported once, at the variable, not again at the role that takes it.
func TestPolicyGlobalPasswordOnce(t *testing.T) {
	l := newTestLoader(t)
	for rule, value := range map[string]string{
		"password-no-plaintext": "Plain.Admin.2026",
		"password-no-md5-hash":  "md5" + "0123456789abcdef0123456789abcdef",
	} {
		fsys := fstest.MapFS{"c.cue": {Data: []byte(fmt.Sprintf(`package fleet

all: children: "pg-x": {
	hosts: "10.0.0.1": {pg_seq: 1, pg_role: "primary"}
	vars: pg_cluster: "pg-x"
	vars: pg_admin_password: %q
}
`, value))}}
		res, err := l.Load(fsys, Options{Profile: "strict"})
		if err != nil {
			t.Fatal(err)
		}
		var got []Problem
		for _, p := range res.Problems {
			if p.Rule == rule {
				got = append(got, p)
			}
		}
		if len(got) != 1 || got[0].Pos.Line != 6 {
			t.Errorf("%s: want one problem at line 6 (the variable), got\n%s", rule, dump(got))
		}
	}
}

// TestProfileNamesFromSyntax: the profile names Profiles reads from
// the policy files' syntax (without waiting for the compiled schema) are
// the compiled schema's.
func TestProfileNamesFromSyntax(t *testing.T) {
	l := newTestLoader(t)
	want := append(l.schema.Profiles(), ProfileNone)
	if got := Profiles(); !slices.Equal(got, want) || len(want) < 3 {
		t.Fatalf("Profiles() = %q, the compiled schema has %q", got, want)
	}
}
