package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// reconciler runs a command in-process.
func reconciler(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// `reconciler audit` end to end: a signed commit applied by `reconciler
// apply`, an unsigned one applied without trusted keys, a forged
// change-log row and an out-of-band ALTER ROLE; the audit traces them,
// writes every format, and exits 2 (a required check fails), 0 with
// --profile none, 1 when an instance cannot be read.
func TestAuditCommand(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-cliaudit", Replicas: -1, BaseIP: 131})
	repo := gitenv.NewRepo(t)
	ops := gitenv.NewSSHSigner(t, "ed25519", "ops@example.com")
	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte(ops.AllowedSignersLine("")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := func(users string) string {
		return fmt.Sprintf(`all:
  vars: {admin_ip: 127.0.0.1, node_firewall_intranet: [127.0.0.0/8]}
  children:
    pg-cliaudit:
      hosts:
        %s: {pg_seq: 1, pg_role: primary}
      vars:
        pg_cluster: pg-cliaudit
        pg_port: %d
        pg_users: [%s]
`, c.Primary.Addr, c.Port, users)
	}
	repo.WriteFile("fleet.yml", spec(""))
	signed := repo.Commit("the fleet", ops)
	repo.WriteFile("fleet.yml", spec("{name: dbuser_app, login: true, expire_in: 30, roles: [dbrole_readwrite]}"))
	unsigned := repo.Commit("an app user, unsigned", nil)
	t.Setenv("PGUSER", c.SuperUser)
	t.Setenv("PGPASSWORD", c.SuperPassword)
	t.Setenv("PGSSLMODE", "verify-full")
	t.Setenv("PGSSLROOTCERT", c.CACertFile)
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))

	start := time.Now().Add(-time.Minute)
	if code, out, errs := reconciler("apply", "--repo", repo.Dir, "--rev", signed, "--allowed-signers", allowed); code != exitOK {
		t.Fatalf("apply the signed commit: exit %d\n%s\n%s", code, out, errs)
	}
	// Applied without trusted keys: the change log records the commit,
	// which is unsigned.
	if code, out, errs := reconciler("apply", "--repo", repo.Dir, "--rev", unsigned); code != exitOK {
		t.Fatalf("apply the unsigned commit: exit %d\n%s\n%s", code, out, errs)
	}
	conn, err := c.Primary.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `INSERT INTO pgreconciler.change_log (cluster, instance, kind, action, object, statement, commit, signer, author, status, error)
		VALUES ('pg-cliaudit', 'pg-cliaudit-1', 'role', 'alter', 'forged', '', '0123456789abcdef0123456789abcdef01234567', 'ops@example.com', '', 'applied', '')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "ALTER ROLE dbuser_monitor CREATEROLE"); err != nil {
		t.Fatal(err)
	}
	// What the daemon records when it sees that drift (issue #15, phase 2).
	if err := apply.RecordObserved(t.Context(), conn, []apply.Observed{{Cluster: "pg-cliaudit", Instance: "pg-cliaudit-1",
		Kind: "role", Object: "dbuser_monitor", Action: "alter", What: "rolcreaterole: false -> true", Commit: unsigned}}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	base := []string{"audit", "--repo", repo.Dir, "--rev", signed, "--allowed-signers", allowed, "--since", start.UTC().Format(time.RFC3339)}
	out := filepath.Join(dir, "report.json")
	code, _, errs := reconciler(append(base, "--format", "json", "--out", out)...)
	if code != exitDrift {
		t.Fatalf("audit: exit %d, want %d\n%s", code, exitDrift, errs)
	}
	var rep struct {
		Failed   bool
		Commit   string
		Controls []struct{ ID, Status string }
		Checks   []struct {
			ID      string
			Results []struct{ Status, Why string }
		}
		Custody []struct {
			Err     string `json:"error"`
			Summary struct {
				Changes, Findings int
				OutOfBand         int `json:"out_of_band"`
			}
			Entries []struct {
				Row     struct{ Object, Commit, Status string }
				Finding string
				Signer  string
			}
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Failed || rep.Commit != signed || len(rep.Controls) != 26 || len(rep.Custody) != 1 || rep.Custody[0].Err != "" {
		t.Fatalf("report: failed %v, commit %s, %d controls, custody %+v", rep.Failed, rep.Commit, len(rep.Controls), rep.Custody)
	}
	cu := rep.Custody[0]
	found := map[string]int{}
	signedRows := 0
	for _, e := range cu.Entries {
		found[e.Finding]++
		if e.Row.Commit == signed && e.Finding == "" && e.Signer != "" {
			signedRows++
		}
	}
	if signedRows == 0 || found["unsigned"] == 0 || found["commit missing"] != 1 || found["out of band"] != 1 {
		t.Errorf("custody findings %v, %d clean rows of the signed commit; want unsigned rows, one missing commit, one out of band", found, signedRows)
	}
	if cu.Summary.Findings != found["unsigned"]+2 || cu.Summary.OutOfBand != 1 || cu.Summary.Changes != signedRows+found["unsigned"]+1 {
		t.Errorf("custody summary %+v", cu.Summary)
	}
	for _, ch := range rep.Checks {
		if ch.ID == "change-custody" && ch.Results[0].Status != "fail" {
			t.Errorf("change-custody = %s (%s)", ch.Results[0].Status, ch.Results[0].Why)
		}
		if ch.ID == "server-certificate" && ch.Results[0].Status != "pass" {
			t.Errorf("server-certificate = %s (%s)", ch.Results[0].Status, ch.Results[0].Why)
		}
		if ch.ID == "patroni-failover" && (ch.Results[0].Status != "unknown" || !strings.Contains(ch.Results[0].Why, "--patroni")) {
			t.Errorf("patroni-failover without --patroni = %s (%s), want unknown, asking for --patroni", ch.Results[0].Status, ch.Results[0].Why)
		}
	}
	// --patroni reads each instance's REST API (patroni_port 8008 by
	// default: nothing answers there, so Patroni's checks are unknown, with
	// why, and the audit still ends as before).
	if code, stdout, errs := reconciler(append(base, "--format", "json", "--patroni")...); code != exitDrift ||
		!strings.Contains(stdout, `"why": "Patroni at http://`+c.Primary.Addr+`:8008: GET http://`+c.Primary.Addr+`:8008/cluster: `) {
		t.Errorf("audit --patroni: exit %d, Patroni not reported unreachable\n%s", code, errs)
	}
	if strings.Contains(string(b), c.SuperPassword) {
		t.Error("the report holds the password")
	}

	// The same content as HTML and markdown, on standard output.
	for format, want := range map[string]string{"html": "<h2>Chain of custody</h2>", "markdown": "## Chain of custody"} {
		code, stdout, errs := reconciler(append(base, "--format", format)...)
		if code != exitDrift || !strings.Contains(stdout, want) || !strings.Contains(stdout, "out of band") {
			t.Errorf("audit --format %s: exit %d, %d bytes\n%s", format, code, len(stdout), errs)
		}
	}
	// Report only: nothing is required.
	if code, _, errs := reconciler(append(base, "--profile", "none", "--out", filepath.Join(dir, "r.html"))...); code != exitOK {
		t.Errorf("audit --profile none: exit %d\n%s", code, errs)
	}
	// An instance that cannot be read is an error: its controls are unknown.
	if err := c.Primary.Stop(); err != nil {
		t.Fatal(err)
	}
	code, _, errs = reconciler(append(base, "--out", filepath.Join(dir, "down.html"))...)
	if code != exitFail || !strings.Contains(errs, "1 instance(s) could not be read") {
		t.Errorf("audit of a stopped server: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "down.html")); err != nil {
		t.Errorf("the report of a stopped server was not written: %v", err)
	}
}
