package protect

import (
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

var globals = model.Globals{DBSU: "postgres", ReplicationUser: "replicator", AdminUser: "dbuser_dba", MonitorUser: "dbuser_monitor"}

func TestRemovalAndPassword(t *testing.T) {
	p := New(globals, "", "bot")
	for _, tc := range []struct {
		role              string
		removal, password Who
	}{
		{"bot", Self, Self},
		{"postgres", DBSU, DBSU},
		{"replicator", Replication, Replication},
		{"dbuser_dba", Admin, None},
		{"dbuser_monitor", Monitor, None},
		{"pg_monitor", Reserved, None},
		{"pg_", Reserved, None}, // PostgreSQL reserves the prefix itself
		{"app", None, None},
		{"", None, None},
	} {
		if got := p.Removal(tc.role); got != tc.removal {
			t.Errorf("Removal(%q) = %v, want %v", tc.role, got, tc.removal)
		}
		if got := p.Password(tc.role); got != tc.password {
			t.Errorf("Password(%q) = %v, want %v", tc.role, got, tc.password)
		}
	}
	// A dbsu the reconciler is told is protected besides the spec's; unset
	// users protect nobody.
	if q := New(model.Globals{DBSU: "postgres"}, "dbsu"); q.Removal("dbsu") != DBSU || q.Removal("postgres") != DBSU ||
		q.Password("") != None || q.Removal("") != None {
		t.Errorf("dbsu given: %v %v", q.Removal("dbsu"), q.Removal("postgres"))
	}
}

func TestAttributes(t *testing.T) {
	p := New(globals, "", "bot")
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f, tr := false, true
	zero := 0
	for _, tc := range []struct {
		name      string
		role      string
		a         plan.RoleAttrs
		superuser bool
		want      []Refusal
	}{
		{"own login off", "bot", plan.RoleAttrs{Login: &f, CreateDB: &f}, true, []Refusal{{plan.AttrLogin, Self}}},
		{"own superuser and login off", "bot", plan.RoleAttrs{Login: &f, Superuser: &f}, true,
			[]Refusal{{plan.AttrLogin, Self}, {plan.AttrSuperuser, Self}}},
		{"own login on", "bot", plan.RoleAttrs{Login: &tr, Superuser: &tr}, true, nil},
		{"dbsu nologin", "postgres", plan.RoleAttrs{Login: &f}, true, []Refusal{{plan.AttrLogin, DBSU}}},
		{"dbsu noreplication is fine", "postgres", plan.RoleAttrs{Replication: &f}, true, nil},
		{"replication user", "replicator", plan.RoleAttrs{Login: &f, Superuser: &f, Replication: &f}, false,
			[]Refusal{{plan.AttrLogin, Replication}, {plan.AttrReplication, Replication}}},
		{"own connection limit 0, superuser", "bot", plan.RoleAttrs{ConnLimit: &zero}, true, nil},
		{"own connection limit 0", "bot", plan.RoleAttrs{ConnLimit: &zero}, false, []Refusal{{plan.AttrConnLimit, Self}}},
		{"another role's connection limit 0", "app", plan.RoleAttrs{ConnLimit: &zero, Login: &f}, false, nil},
		{"own expiry in the past", "bot", plan.RoleAttrs{ValidUntil: "2026-11-26 00:00:00+00"}, true, []Refusal{{plan.AttrValidUntil, Self}}},
		{"own expiry ahead", "bot", plan.RoleAttrs{ValidUntil: "2026-11-28 00:00:00+00"}, true, nil},
		{"own expiry infinity", "bot", plan.RoleAttrs{ValidUntil: "infinity"}, true, nil},
	} {
		got := p.Attributes(tc.role, tc.a, tc.superuser, now)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}
