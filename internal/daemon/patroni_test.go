package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// TestDaemonFollowsSwitchover: a daemon reconciling a Patroni cluster
// (--patroni) finds the new leader at the drift check after a
// `patronictl switchover`, with neither a restart nor a Git change, shows
// it in pgreconciler_cluster_leader and /status, and applies the next
// signed commit to the new leader within a drift interval; its periodic
// audit judges Patroni.
func TestDaemonFollowsSwitchover(t *testing.T) {
	pc := patronienv.New(t, patronienv.Options{Name: "pg-hd", Members: 2, BaseIP: 131})
	const drift = 5 * time.Second
	users := func(names ...string) string {
		s := "pg_default_privileges: []\npg_users: ["
		for _, n := range names {
			s += fmt.Sprintf(`{name: %q, password: "Hd.Secret.2026"}, `, n)
		}
		return s + "]"
	}
	r := &signedRepo{repo: gitenv.NewRepo(t), signer: gitenv.NewSSHSigner(t, "ed25519", "dba@example.com")}
	r.signers = filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(r.signers, []byte(r.signer.AllowedSignersLine(`namespaces="git"`)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	commit := func(vars, msg string) {
		r.repo.WriteFile("fleet.cue", pc.PigstySpec(vars))
		r.repo.Commit(msg, r.signer)
	}
	commit(users("dbuser_hd1"), "initial spec")
	p := startDaemonEnv(t, []string{"PGUSER=" + pc.SuperUser, "PGPASSWORD=" + pc.SuperPassword,
		"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + pc.CACertFile},
		"--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", drift.String(),
		"--poll-interval", "1h", "--state-dir", t.TempDir(), "--patroni", "--audit-interval", "5s")
	first, second := pc.Members()[0], pc.Members()[1]
	leads := func(m *patronienv.Member) bool {
		return p.metric("pgreconciler_cluster_leader", `cluster="pg-hd"`, `instance="`+m.Name()+`"`) == 1
	}
	waitFor(t, 90*time.Second, "the first reconcile", func() bool {
		return leads(first) && hasRole(t, first, "dbuser_hd1")
	})

	if _, err := pc.Switchover(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 3*drift, "the daemon to see the new leader", func() bool { return leads(second) && !leads(first) })
	t.Logf("new leader seen %s after the switchover settled", took)
	if n := p.metric("pgreconciler_topology_findings", `cluster="pg-hd"`, `kind="inventory_role"`); n != 2 {
		t.Errorf("inventory_role findings after the switchover: %v, want 2 (both members)", n)
	}

	commit(users("dbuser_hd1", "dbuser_hd2"), "add dbuser_hd2")
	took = waitFor(t, 2*drift, "the signed commit applied to the new leader", func() bool { return hasRole(t, second, "dbuser_hd2") })
	t.Logf("signed commit applied to the new leader %s after the commit", took)
	waitFor(t, 2*drift, "a successful reconcile on the new leader", func() bool {
		var st Status
		if err := json.Unmarshal(p.get(t, "/status"), &st); err != nil {
			t.Fatal(err)
		}
		for _, c := range st.Clusters {
			if c.Cluster == "pg-hd" {
				return c.Leader == second.Name() && c.LastResult == "success" && c.Drift["topology"] == 2
			}
		}
		return false
	})
	// The periodic audit judges Patroni too (--patroni): on the replica,
	// business continuity (SOC 2 CC9.1) is Patroni's failover alone, which
	// passes with the leader and the replica streaming; without Patroni
	// access it would be unknown and export no series.
	waitFor(t, 30*time.Second, "CC9.1 to pass on the replica", func() bool {
		return p.metric("pgreconciler_control_status", `cluster="pg-hd"`, `instance="`+first.Name()+`"`, `control="SOC2-CC9.1"`) == 1
	})
}

func hasRole(t *testing.T, m *patronienv.Member, role string) bool {
	t.Helper()
	conn, err := m.Admin(t.Context())
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", role).Scan(&n)
	return err == nil && n == 1
}
