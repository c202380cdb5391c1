package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// samplePlan has one change of every action and a few kinds.
func samplePlan() *Plan {
	return &Plan{
		Commit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
		Signer: "alice@example.com (SHA256:abc)",
		Clusters: []ClusterPlan{{
			Name: "pg-test",
			Instances: []Instance{{Name: "pg-test-1", Role: "primary", Addr: "10.10.10.11:5432"},
				{Name: "pg-test-2", Role: "replica", Addr: "10.10.10.12:5432"}},
			Changes: []Change{
				{Kind: KindRole, Action: ActionCreate, Object: "dbuser_app", Instance: "pg-test-1", After: "LOGIN CONNECTION LIMIT 64",
					Statements: []Statement{{SQL: `CREATE ROLE "dbuser_app" LOGIN CONNECTION LIMIT 64`}, {SQL: `COMMENT ON ROLE "dbuser_app" IS 'order service'`}},
					Intent: Intent{Role: &RoleChange{Name: "dbuser_app", Attrs: RoleAttrs{Login: new(true), ConnLimit: new(64)}},
						Comment: &CommentChange{On: OnRole, Name: "dbuser_app", Text: "order service"}}},
				{Kind: KindPassword, Action: ActionCreate, Object: "dbuser_app", Instance: "pg-test-1", Before: "none", After: model.Redacted,
					Statements: []Statement{{SQL: `ALTER ROLE "dbuser_app" PASSWORD ` + PasswordPlaceholder, Password: model.NewSecret("hunter2-secret")}},
					Intent:     Intent{Password: &PasswordChange{Role: "dbuser_app", Password: model.NewSecret("hunter2-secret"), Encryption: "scram-sha-256"}}},
				{Kind: KindRole, Action: ActionChange, Object: "dbuser_report", Instance: "pg-test-1", Before: "connlimit -1", After: "connlimit 10",
					Statements: []Statement{{SQL: `ALTER ROLE "dbuser_report" CONNECTION LIMIT 10`}},
					Intent:     Intent{Role: &RoleChange{Name: "dbuser_report", Attrs: RoleAttrs{ConnLimit: new(10)}}}},
				{Kind: KindDefaultPrivilege, Action: ActionChange, Object: "app: FOR ROLE dbuser_dba", Instance: "pg-test-1", After: "SELECT ON TABLES TO dbrole_readonly",
					Statements: []Statement{{SQL: `ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_dba" GRANT SELECT ON TABLES TO "dbrole_readonly"`, Database: "app"}},
					Intent: Intent{DefaultPrivileges: &DefaultPrivileges{Database: "app", Owner: "dbuser_dba",
						Grants: []DefaultGrant{{Privileges: []string{"SELECT"}, ObjectType: "TABLES", Grantee: "dbrole_readonly"}}}}},
				{Kind: KindPrivilege, Action: ActionChange, Object: "schema app.public", Instance: "pg-test-1", Before: "PUBLIC has CREATE", After: "PUBLIC has no CREATE",
					Statements: []Statement{{SQL: `REVOKE CREATE ON SCHEMA public FROM PUBLIC`, Database: "app"}},
					Intent:     Intent{Grants: []Grant{{On: OnSchema, Database: "app", Schema: "public", Privileges: []string{"CREATE"}, Revoke: true}}}},
				{Kind: KindRole, Action: ActionReport, Object: "dbuser_dba", Instance: "pg-test-1", After: "NOSUPERUSER",
					Reason: "not planned: it is the role the reconciler logs in as",
					Intent: Intent{Role: &RoleChange{Name: "dbuser_dba", Attrs: RoleAttrs{Superuser: new(false)}}}},
				{Kind: KindParameter, Action: ActionChange, Object: "shared_buffers", Instance: "pg-test-2", Before: "16384 x 8kB", After: "256MB", RequiresRestart: true,
					Statements: []Statement{{SQL: `ALTER SYSTEM SET "shared_buffers" = '256MB'`, NoTx: true}},
					Intent:     Intent{Parameter: &ParameterChange{Name: "shared_buffers", Value: model.NewSecret("256MB")}}},
				{Kind: KindHBA, Action: ActionChange, Object: "pg_hba.conf", Instance: "pg-test-2", Before: "1 unexpected", After: "14 rules",
					Intent: Intent{HBA: &HBAFile{Content: "…", Diff: []string{"+ host  all  dbuser_app  10.20.0.0/16  scram-sha-256", "- host  all  all  0.0.0.0/0  trust"}}},
					Impact: []Impact{{Kind: ImpactHBARejected, Instance: "pg-test-2", CutsOff: true, Summary: "hba pg_hba.conf: 3 sessions accepted today would be rejected",
						Clients: []ImpactClients{{User: "dbuser_report", Network: "10.30.0.0/24", Addresses: []string{"10.30.0.7"}, Databases: []string{"meta"},
							Sessions: 3, Before: "line 9: host all all 0.0.0.0/0 trust", After: "no line matches"}},
						Groups: 2, Sessions: 3, Hidden: 1}}},
				{Kind: KindRole, Action: ActionRemove, Object: "dbuser_legacy", Instance: "pg-test-1", Before: "exists", After: "absent",
					Statements: []Statement{{SQL: `DROP ROLE "dbuser_legacy"`}},
					Intent:     Intent{Role: &RoleChange{Name: "dbuser_legacy", Drop: &RoleDrop{Successor: "postgres", Databases: []string{"postgres"}}}},
					Impact: []Impact{{Kind: ImpactDropped, Instance: "pg-test-1", Summary: "role dbuser_legacy is dropped: owns 4 objects (reassigned to postgres)",
						Objects: map[string]int{"meta": 4}}}},
				{Kind: KindUnmanaged, Action: ActionNote, Object: "bob", Instance: "pg-test-1", Before: "LOGIN", Reason: "exists but is not in the spec; left alone",
					Intent: Intent{Role: &RoleChange{Name: "bob"}}},
			},
		}, {
			Name:      "pg-meta",
			Instances: []Instance{{Name: "pg-meta-1", Role: "primary", Addr: "10.10.10.10:5432"}},
		}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func TestFormats(t *testing.T) {
	p := samplePlan()
	for _, f := range []struct {
		name  string
		write func(*Plan, *bytes.Buffer) error
	}{
		{"plan.txt", func(p *Plan, b *bytes.Buffer) error { return p.WriteText(b) }},
		{"plan.md", func(p *Plan, b *bytes.Buffer) error { return p.WriteMarkdown(b) }},
		{"plan.json", func(p *Plan, b *bytes.Buffer) error { return p.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(p, &b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "hunter2-secret") {
			t.Fatalf("%s shows a password", f.name)
		}
		golden(t, f.name, b.Bytes())
	}
	var j map[string]any
	var b bytes.Buffer
	_ = p.WriteJSON(&b)
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	sum := j["summary"].(map[string]any)
	if sum["add"].(float64) != 2 || sum["change"].(float64) != 5 || sum["remove"].(float64) != 1 {
		t.Fatalf("summary %v", sum)
	}
}

func TestNoChanges(t *testing.T) {
	p := &Plan{Clusters: []ClusterPlan{{Name: "pg-meta", Changes: []Change{{Kind: KindUnmanaged, Action: ActionNote, Object: "bob"}}}}}
	if p.HasDrift() || p.SummaryLine() != "No changes. Live state matches the spec." {
		t.Fatalf("%q", p.SummaryLine())
	}
}

func TestIncompletePlanSaysSo(t *testing.T) {
	p := &Plan{Clusters: []ClusterPlan{{Name: "pg-meta", Errors: []string{"pg-meta-1: connection refused"}}}}
	if got := p.SummaryLine(); got != "Plan incomplete: 1 instance could not be inspected. No changes found in what could be inspected." {
		t.Fatalf("%q", got)
	}
}
