package daemon

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

const impactVars = `
pg_users: [{name: "dbuser_imp", password: "Imp.Secret.2026", roles: ["dbrole_readwrite"]}]
pg_default_privileges: []
`

// TestDaemonHoldsImpact: with a client of dbuser_imp held open from
// 127.0.0.2, a signed commit adding a rule that rejects that address is
// refused by `reconciler plan --fail-on-impact` (exit 3, the client named)
// and held by the daemon (the rule not written, /status held and refused);
// a signed commit on top of it carrying Impact-Accepted: yes passes
// --fail-on-impact, and the daemon applies it.
func TestDaemonHoldsImpact(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, impactVars)
	if out, code := runCLI(t, "apply", "--repo", r.repo.Dir, "--allowed-signers", r.signers); code != 0 {
		t.Fatalf("reconciler apply: exit %d\n%s", code, out)
	}
	cluster.Primary.HoldClient(t, testenv.ClientOptions{User: "dbuser_imp", Password: "Imp.Secret.2026", Database: "postgres",
		From: "127.0.0.2", Application: "batch"})
	cut := r.commit(impactVars+`pg_hba_rules: [{user: "dbuser_imp", db: "all", addr: "127.0.0.2/32", auth: "deny", title: "imp moved", order: 10}]`,
		"hba: dbuser_imp no longer from 127.0.0.2", true)
	plan := []string{"plan", "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--fail-on-impact"}
	out, code := runCLI(t, plan...)
	if code != 3 || !strings.Contains(out, "127.0.0.2") || !strings.Contains(out, "would be rejected") {
		t.Fatalf("plan --fail-on-impact of a commit that cuts off a client: exit %d\n%s", code, out)
	}
	accept := r.repo.Commit("accept the cut\n\nThe batch host moved to 127.0.0.3.\n\nImpact-Accepted: yes", r.signer)
	if out, code := runCLI(t, plan...); code != 0 || !strings.Contains(out, "accepted by commit") {
		t.Fatalf("plan --fail-on-impact of a commit that accepts the impact: exit %d\n%s", code, out)
	}
	r.repo.ResetHard(cut)

	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s",
		"--poll-interval", "1h", "--state-dir", t.TempDir())
	var st Status
	waitFor(t, 60*time.Second, "the daemon to hold the commit", func() bool {
		st = Status{}
		_ = json.Unmarshal(p.get(t, "/status"), &st)
		return len(st.Clusters) == 1 && len(st.Clusters[0].Held) > 0
	})
	cs := st.Clusters[0]
	if cs.LastResult != "refused" || !strings.Contains(cs.Held[0], "pg_hba.conf") || !strings.Contains(cs.LastError, "Impact-Accepted") {
		t.Errorf("held status: %+v", cs)
	}
	if hba, _ := os.ReadFile(cluster.Primary.HBAPath()); bytes.Contains(hba, []byte("127.0.0.2/32")) {
		t.Fatal("the daemon wrote the rule that cuts off a live client")
	}
	if p.metric("pgreconciler_reconcile_total", `cluster="pg-e2e"`, `result="refused"`) < 1 {
		t.Error("the hold is not counted as a refused reconcile")
	}

	r.repo.ResetHard(accept)
	waitFor(t, 60*time.Second, "the accepted commit to be applied", func() bool {
		hba, _ := os.ReadFile(cluster.Primary.HBAPath())
		return bytes.Contains(hba, []byte("127.0.0.2/32"))
	})
	waitFor(t, 30*time.Second, "the hold to clear", func() bool {
		st = Status{}
		_ = json.Unmarshal(p.get(t, "/status"), &st)
		return len(st.Clusters) == 1 && len(st.Clusters[0].Held) == 0 && st.Clusters[0].LastResult == "success"
	})
}
