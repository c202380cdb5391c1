package daemon

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonAudit: the daemon's periodic audit exports each control per
// instance (1 pass, 0 fail) and follows the servers: an undeclared role
// with CREATEROLE fails least privilege until it is dropped. Drift the
// daemon heals is recorded in the change log as observed (when and what,
// no secret), and `reconciler audit --since` lists it as out of band;
// the commit's own changes are not observed rows.
func TestDaemonAudit(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	since := time.Now().Add(-time.Minute)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s", "--audit-interval", "1s",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	converged(t, p, 60*time.Second)

	control := func(name string) float64 {
		return p.metric("pgreconciler_control_status", `cluster="pg-e2e"`, `instance="pg-e2e-1"`, `control="`+name+`"`)
	}
	waitFor(t, 60*time.Second, "least privilege to pass", func() bool { return control("MLPS3-LeastPrivilege") == 1 })
	if v := control("MLPS3-DataIntegrity"); v != 1 {
		t.Errorf("data integrity (checksums on) = %v, want 1", v)
	}
	if v := p.metric("pgreconciler_control_status", `cluster="pg-e2e"`, `instance="pg-e2e-2"`, `control="MLPS3-BackupRecovery"`); v != -1 {
		t.Errorf("backup and recovery on the replica (n/a: judged on the primary) = %v, want no series", v)
	}
	if p.metric("pgreconciler_audit_last_run_timestamp_seconds", `cluster="pg-e2e"`) <= 0 {
		t.Error("no pgreconciler_audit_last_run_timestamp_seconds")
	}
	// An undeclared role is left alone by the reconciler, and fails the
	// control until it goes.
	cluster.Primary.MustLocal(t, "postgres", "CREATE ROLE audit_ops LOGIN CREATEROLE")
	waitFor(t, 30*time.Second, "least privilege to fail", func() bool { return control("MLPS3-LeastPrivilege") == 0 })
	cluster.Primary.MustLocal(t, "postgres", "DROP ROLE audit_ops")
	waitFor(t, 30*time.Second, "least privilege to pass again", func() bool { return control("MLPS3-LeastPrivilege") == 1 })

	// Converging to the commit recorded no observed row; healing an
	// out-of-band change does.
	observed := func() string {
		return cluster.Primary.MustLocalValue(t, "postgres", "SELECT count(*) FROM pgreconciler.change_log WHERE status = 'observed'")
	}
	if n := observed(); n != "0" {
		t.Fatalf("%s observed rows after converging to the commit, want 0", n)
	}
	cluster.Primary.MustLocal(t, "postgres", `ALTER ROLE dbuser_app CONNECTION LIMIT 3`)
	waitFor(t, 30*time.Second, "the change to be healed", func() bool { return connlimit(t, "dbuser_app") == "20" })
	waitFor(t, 10*time.Second, "an observed row", func() bool { return observed() != "0" })
	row := cluster.Primary.MustLocalValue(t, "postgres", `SELECT concat_ws(' | ', kind, action, object, instance, statement, commit, signer)
		FROM pgreconciler.change_log WHERE status = 'observed' ORDER BY id LIMIT 1`)
	head := strings.TrimSpace(r.repo.Run("rev-parse", "HEAD"))
	if !strings.Contains(row, "role | change | dbuser_app | pg-e2e-1 | connlimit 3 -> connlimit 20 | "+head) {
		t.Errorf("observed row %q: want the role, what differed (3 -> 20) and the commit %s", row, head)
	}
	all := cluster.Primary.MustLocalValue(t, "postgres", "SELECT string_agg(concat_ws(' ', statement, error), ' ') FROM pgreconciler.change_log")
	if strings.Contains(all, "App.Secret.2026") || strings.Contains(all, "SCRAM-SHA-256$") {
		t.Error("the change log holds the password or its verifier")
	}

	// The chain of custody lists it as out of band.
	out := filepath.Join(t.TempDir(), "audit.json")
	cmd := exec.Command(reconcilerBin(t), "audit", "--repo", r.repo.Dir, "--allowed-signers", r.signers,
		"--since", since.UTC().Format(time.RFC3339), "--format", "json", "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != exitDrift {
		t.Fatalf("reconciler audit: %v\n%s", err, b)
	}
	var rep struct {
		Custody []struct {
			Summary struct {
				OutOfBand int `json:"out_of_band"`
			}
			Entries []struct {
				Row     struct{ Object, Status string }
				Finding string
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
	found := false
	for _, cu := range rep.Custody {
		for _, e := range cu.Entries {
			found = found || e.Row.Object == "dbuser_app" && e.Row.Status == "observed" && e.Finding == "out of band"
		}
		if cu.Summary.OutOfBand < 1 {
			t.Errorf("custody summary counts %d out-of-band changes, want at least 1", cu.Summary.OutOfBand)
		}
	}
	if !found || len(rep.Custody) != 1 {
		t.Errorf("the chain of custody does not list the healed change as out of band:\n%s", b)
	}
}

// exitDrift is `reconciler audit`'s exit code when a required control fails.
const exitDrift = 2
