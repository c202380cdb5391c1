package hba

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

func pgbCluster(rules []model.HBARule) *model.Cluster {
	c := testCluster(nil)
	for _, in := range c.Instances {
		in.Pooler = model.Pooler{Enabled: true, Port: 6432, HBA: rules}
	}
	return c
}

// TestRenderPgBouncer: Pigsty's pgbouncer.hba maps os and ident to peer
// (PostgreSQL's file keeps ident), names the pgb_* lists as sources, and
// puts PgBouncer's port in the header.
func TestRenderPgBouncer(t *testing.T) {
	rules := []model.HBARule{
		{User: "${dbsu}", DB: "pgbouncer", Addr: "local", Auth: "os", Title: "dbsu", Order: ord(100), Default: true},
		{User: "all", DB: "all", Addr: "local", Auth: "ident", Title: "ident"},
		{User: "all", DB: "all", Addr: "intra", Auth: "ssl", Title: "ssl"},
	}
	c := pgbCluster(rules)
	f, err := RenderPgBouncer(c, c.Instances[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# File      :   pgb_hba.conf\n",
		"# Desc      :   PgBouncer HBA Rules for pg-test-1 [primary]\n",
		"# Host      :   pg-test-1 @ 10.10.10.11:6432\n",
		"local    pgbouncer          postgres                              peer\n",
		"local    all                all                                   peer\n",
		"hostssl  all                all                10.0.0.0/8         scram-sha-256\n",
	} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("rendered file lacks %q:\n%s", want, f.Text)
		}
	}
	if f.Blocks[0].Source != "pgb_default_hba_rules[0]" || f.Blocks[2].Source != "pgb_hba_rules[1]" {
		t.Errorf("sources %q, %q", f.Blocks[0].Source, f.Blocks[2].Source)
	}
	lines, errs := ParsePgBouncer(f.Text)
	if len(errs) > 0 || !Compare(f.Lines, lines).Empty() {
		t.Errorf("ParsePgBouncer(Text) = %v, %v; want File.Lines", lines, errs)
	}
	pg := testCluster(rules)
	if p, _ := Render(pg, pg.Instances[0]); !strings.Contains(p.Text, "local    all                all                                   ident\n") {
		t.Errorf("pg_hba.conf must keep ident:\n%s", p.Text)
	}
}

// TestPgBouncerRefusals: what Pigsty aborts on and what PgBouncer would
// skip are refused, by CheckPgBouncerRule and by RenderPgBouncer alike.
func TestPgBouncerRefusals(t *testing.T) {
	for _, tc := range []struct {
		rule model.HBARule
		want string
	}{
		{model.HBARule{User: "all", DB: "replication", Addr: "intra", Auth: "pwd"}, "db replication is not allowed"},
		{model.HBARule{User: "+dbrole_readonly", DB: "all", Addr: "intra", Auth: "pwd"}, "does not support groups"},
		{model.HBARule{User: "all", DB: "all", Addr: "intra", Auth: "ident"}, "renders it as peer for PgBouncer"},
		{model.HBARule{User: "all", DB: "all", Addr: "world", Auth: "peer"}, "PgBouncer accepts peer only on Unix sockets"},
		{model.HBARule{Rules: []string{"host all all 10.0.0.0/8 ldap ldapurl=ldap://x"}}, "PgBouncer does not support method ldap"},
		{model.HBARule{Rules: []string{"host all +g 10.0.0.0/8 md5"}}, "does not support group +g"},
		{model.HBARule{Rules: []string{`host all "a b" 10.0.0.0/8 md5`}}, "double quotes"},
		{model.HBARule{Rules: []string{"host all all samenet md5"}}, "only IP addresses"},
	} {
		err := CheckPgBouncerRule(tc.rule)
		if err == nil || IsWarning(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckPgBouncerRule(%+v) = %v, want an error with %q", tc.rule, err, tc.want)
		}
		c := pgbCluster([]model.HBARule{tc.rule})
		if _, err := RenderPgBouncer(c, c.Instances[0]); err == nil {
			t.Errorf("RenderPgBouncer(%+v) succeeds", tc.rule)
		}
		if tc.rule.DB != "replication" && !strings.HasPrefix(tc.rule.User, "+") && tc.rule.Auth != "ident" {
			continue
		}
		if err := CheckRule(tc.rule); err != nil && !IsWarning(err) { // fine for PostgreSQL
			t.Errorf("CheckRule(%+v) = %v, want it accepted for pg_hba.conf", tc.rule, err)
		}
	}
}
