package audit

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// The table is consistent: every check a control names exists, every
// check serves a control, ids are unique, and a control no check decides
// says why.
func TestControlsAndChecksConsistent(t *testing.T) {
	checks := map[string]bool{}
	for _, c := range Checks() {
		if checks[c.ID] {
			t.Errorf("check %s twice", c.ID)
		}
		checks[c.ID] = true
		if c.Level != LevelBaseline && c.Level != LevelStrict {
			t.Errorf("check %s has no level", c.ID)
		}
	}
	served := map[string]bool{}
	ids := map[string]bool{}
	n := map[Framework]int{}
	for _, c := range Controls() {
		if ids[c.ID] {
			t.Errorf("control %s twice", c.ID)
		}
		ids[c.ID] = true
		n[c.Framework]++
		for _, id := range c.Checks {
			if !checks[id] {
				t.Errorf("control %s names unknown check %s", c.ID, id)
			}
			served[id] = true
		}
		if len(c.Checks) == 0 && c.Unjudged == "" {
			t.Errorf("control %s has no check and does not say why", c.ID)
		}
	}
	for id := range checks {
		if !served[id] {
			t.Errorf("check %s serves no control", id)
		}
	}
	// The reference's table: 15 MLPS Level 3 requirements, 11 SOC 2 points.
	if n[MLPS3] != 15 || n[SOC2] != 11 {
		t.Errorf("controls: %d MLPS, %d SOC 2; want 15 and 11", n[MLPS3], n[SOC2])
	}
}

func TestProfiles(t *testing.T) {
	for _, tc := range []struct {
		p                Profile
		baseline, strict bool
	}{{ProfileBaseline, true, false}, {ProfileStrict, true, true}, {ProfileNone, false, false}} {
		if tc.p.Requires(LevelBaseline) != tc.baseline || tc.p.Requires(LevelStrict) != tc.strict {
			t.Errorf("profile %s requires baseline %v strict %v", tc.p, tc.p.Requires(LevelBaseline), tc.p.Requires(LevelStrict))
		}
		if p, err := ParseProfile(string(tc.p)); err != nil || p != tc.p {
			t.Errorf("ParseProfile(%s) = %v, %v", tc.p, p, err)
		}
	}
	if _, err := ParseProfile("paranoid"); err == nil {
		t.Error("ParseProfile accepted paranoid")
	}
}

// subject is a primary with the given evidence, judged against a spec
// with one instance.
func subject(ev *Evidence) *Subject {
	in := &model.Instance{Cluster: "pg-x", Seq: 1, IP: "10.1.0.1", Port: 5432, Role: model.RolePrimary}
	c := &model.Cluster{Name: "pg-x", Instances: []*model.Instance{in}, Globals: model.Globals{AdminUser: "dbuser_dba"}}
	if ev.Session.Now.IsZero() {
		ev.Session.Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	return &Subject{Cluster: c, Instance: in, Evidence: ev}
}

func judgeID(t *testing.T, id string, s *Subject) Verdict {
	t.Helper()
	for _, c := range Checks() {
		if c.ID == id {
			return c.Judge(s)
		}
	}
	t.Fatalf("no check %s", id)
	return Verdict{}
}

// The checks of PgBouncer (read by PoolerFrom) judge their evidence both ways, are unknown when it is not collected,
// and the pooler's are n/a where the spec runs none; storage encryption is
// unknown without a TDE library.
func TestChecksOfEvidenceNotCollectedHere(t *testing.T) {
	spl := func(v string) map[string]Setting { return map[string]Setting{"shared_preload_libraries": {Value: v}} }
	for _, tc := range []struct {
		id   string
		ev   *Evidence
		want Status
		why  string
	}{
		{"pgbouncer-tls", &Evidence{}, StatusUnknown, "without a pooler collector"},
		{"pgbouncer-auth", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", AuthType: "scram-sha-256"}}, StatusPass, "auth_type scram-sha-256"},
		{"pgbouncer-auth", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", AuthType: "trust"}}, StatusFail, "no authentication"},
		{"pgbouncer-auth", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", AuthType: "hba", HBAFile: "/etc/pgbouncer/pgb_hba.conf", HBAUnread: "no file reader"}}, StatusUnknown, "was not read: no file reader"},
		{"pgbouncer-auth", &Evidence{Pooler: poolerHBA(t, "local all all peer\nhost all all 10.0.0.0/8 scram-sha-256\n")}, StatusPass, "every TCP rule"},
		{"pgbouncer-auth", &Evidence{Pooler: poolerHBA(t, "host all all 10.0.0.0/8 scram-sha-256\nhostssl all all 0.0.0.0/0 md5\n")}, StatusFail, "line 2 of pgb_hba.conf lets TCP clients in with md5"},
		{"pgbouncer-tls", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", ClientTLSMode: "require", AuthType: "hba"}}, StatusPass, "requires TLS"},
		{"pgbouncer-tls", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", ClientTLSMode: "disable"}}, StatusFail, "without TLS"},
		{"pgbouncer-tls", &Evidence{Pooler: &Pooler{Addr: "10.1.0.1:6432", Err: "connection refused"}}, StatusUnknown, "connection refused"},
		{"storage-encryption", &Evidence{Settings: spl("pg_stat_statements")}, StatusUnknown, "no encryption library"},
		{"storage-encryption", &Evidence{Settings: spl("pgsodium, pg_stat_statements")}, StatusPass, "pgsodium is loaded"},
		{"change-custody", &Evidence{}, StatusNotApplicable, "--since"},
		{"log-connections", &Evidence{Session: Session{Version: 180000}, Settings: map[string]Setting{"log_connections": {Value: "authorization"}}}, StatusFail, "receipt,authentication,authorization"},
		{"log-connections", &Evidence{Session: Session{Version: 180000}, Settings: map[string]Setting{"log_connections": {Value: "receipt,authentication,authorization"}}}, StatusPass, "every connection"},
		{"log-connections", &Evidence{Session: Session{Version: 180000}, Settings: map[string]Setting{"log_connections": {Value: "on"}}}, StatusPass, "every connection"},
		{"roles-declared", &Evidence{Err: "connect to pg-x-1: connection refused"}, StatusUnknown, "connection refused"},
		{"password-encryption", &Evidence{Settings: map[string]Setting{"password_encryption": {Value: "md5", Own: true, Unknown: "no privilege"}}}, StatusUnknown, "no privilege"},
	} {
		s := subject(tc.ev)
		s.Instance.Pooler.Enabled = true
		if v := judgeID(t, tc.id, s); v.Status != tc.want || !strings.Contains(v.Why, tc.why) {
			t.Errorf("%s on %+v = %s (%s), want %s (%q)", tc.id, tc.ev, v.Status, v.Why, tc.want, tc.why)
		}
	}
	for _, id := range []string{"pgbouncer-tls", "pgbouncer-auth"} {
		if v := judgeID(t, id, subject(&Evidence{})); v.Status != StatusNotApplicable || !strings.Contains(v.Why, "pgbouncer_enabled: false") {
			t.Errorf("%s without a pooler in the spec = %s (%s), want n/a", id, v.Status, v.Why)
		}
	}
}

// poolerHBA is a pooler with auth_type hba and the pgb_hba.conf text.
func poolerHBA(t *testing.T, text string) *Pooler {
	t.Helper()
	lines, errs := hba.ParsePgBouncer(text)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	p := &Pooler{Addr: "10.1.0.1:6432", AuthType: "hba", HBAFile: "/etc/pgbouncer/pgb_hba.conf", HBA: []string{}, lines: lines}
	for _, l := range lines {
		p.HBA = append(p.HBA, l.String())
	}
	return p
}

func TestParsers(t *testing.T) {
	// pg_settings shows the list with double quotes where needed.
	if got := libraries(`"$libdir/passwordcheck", pg_stat_statements, "/usr/lib/x/auth_delay.so"`); !slices.Equal(got, []string{"passwordcheck", "pg_stat_statements", "auth_delay"}) {
		t.Errorf("libraries = %q", got)
	}
	for v, want := range map[string][]string{
		"all":           {"ddl", "function", "misc", "misc_set", "read", "role", "write"},
		"all, -misc":    {"ddl", "function", "misc_set", "read", "role", "write"},
		"DDL,Role":      {"ddl", "role"},
		"none":          nil,
		"write, -write": nil,
	} {
		got := slices.Sorted(func(yield func(string) bool) {
			for k, on := range pgauditClasses(v) {
				if on && !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(got, want) {
			t.Errorf("pgauditClasses(%q) = %v, want %v", v, got, want)
		}
	}
	if a := connectionAspects("receipt, authorization"); !a["receipt"] || !a["authorization"] || a["authentication"] {
		t.Errorf("connectionAspects = %v", a)
	}
	if got := slices.Sorted(maps.Keys(connectionAspects("off"))); len(got) != 0 {
		t.Errorf("connectionAspects(off) = %v", got)
	}
	for cmd, want := range map[string]string{
		"pgbackrest --stanza=pg-meta archive-push %p":                            "pgbackrest …",
		"AWS_SECRET_ACCESS_KEY=hunter2 /usr/bin/wal-g wal-push %p --key=hunter2": "wal-g …",
		"": "(empty)",
	} {
		if got := commandSummary(cmd); got != want {
			t.Errorf("commandSummary(%q) = %q, want %q", cmd, got, want)
		}
	}
}

// ControlStatus is per instance: what a metric per instance and control
// exports.
func TestControlStatusPerInstance(t *testing.T) {
	mk := func(seq int, checksums string) *Subject {
		s := subject(&Evidence{Settings: map[string]Setting{"data_checksums": {Value: checksums}}})
		s.Instance.Seq = seq
		return s
	}
	a, b := mk(1, "on"), mk(2, "off")
	r := buildReport([]*Subject{a, b}, nil, Options{Profile: ProfileBaseline}, time.Now())
	if got := r.ControlStatus("pg-x", "pg-x-1")["MLPS3-DataIntegrity"]; got != StatusPass {
		t.Errorf("data integrity on pg-x-1 = %s, want pass", got)
	}
	if got := r.ControlStatus("pg-x", "pg-x-2")["MLPS3-DataIntegrity"]; got != StatusFail {
		t.Errorf("data integrity on pg-x-2 = %s, want fail", got)
	}
	if got := r.ControlStatus("pg-x", "pg-x-1")["SOC2-CC7.3"]; got != StatusUnknown {
		t.Errorf("CC7.3 (no check) = %s, want unknown", got)
	}
	if n := len(r.ControlStatus("pg-x", "pg-x-1")); n != len(Controls()) {
		t.Errorf("%d controls, want %d", n, len(Controls()))
	}
}
