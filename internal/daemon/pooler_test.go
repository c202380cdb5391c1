package daemon

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// poolerSpec is the fleet with a PgBouncer beside the primary (on port),
// database.txt pointing at the primary's address, users as given.
func poolerSpec(port int, users string) string {
	text := cluster.PigstySpec(fmt.Sprintf(`pg_admin_password: %q
		pg_monitor_password: %q
		pg_users: [%s]
		pg_databases: [{name: "app", pool_size: 7}]
		pg_default_privileges: []`, cluster.SuperPassword, cluster.MonitorPassword, users))
	text = strings.Replace(text, `pg_role: "primary"}`, fmt.Sprintf(`pg_role: "primary", pgbouncer_port: %d, pg_localhost: %q}`, port, cluster.Primary.Addr), 1)
	return strings.Replace(text, `pg_role: "replica"}`, `pg_role: "replica", pgbouncer_enabled: false}`, 1)
}

// TestDaemonPgBouncer: with modes.pgbouncer apply, a user added in a
// signed commit logs in through the PgBouncer beside the primary within
// one reconcile; a pooler that is down is pgbouncer drift in /metrics and
// /status, and PostgreSQL is still reconciled; no verifier anywhere.
func TestDaemonPgBouncer(t *testing.T) {
	cluster.ResetForReconciler(t)
	port, err := testenv.FreePort(cluster.Primary.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// The pooler as installed and not yet managed: the admin and the
	// monitor in userlist.txt with the server's verifiers, everyone by
	// SCRAM from the loopback network.
	verifier := func(role string) string {
		return cluster.Primary.MustLocalValue(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = '"+role+"'")
	}
	userlist := fmt.Sprintf("\"%s\" \"%s\"\n\"%s\" \"%s\"\n", cluster.SuperUser, verifier(cluster.SuperUser), cluster.MonitorUser, verifier(cluster.MonitorUser))
	b := bouncer.Start(t, cluster, cluster.Primary, bouncer.Options{Port: port, LogConnections: true, Files: map[string][]byte{
		"userlist.txt": []byte(userlist),
		"pgb_hba.conf": []byte("local pgbouncer postgres peer\nhost all all 127.0.0.0/8 scram-sha-256\n")}})

	r := newSignedRepo(t, "")
	r.repo.WriteFile("fleet.cue", poolerSpec(port, ""))
	r.repo.Commit("the pooler's spec", r.signer)
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1s",
		"--poll-interval", "1h", "--state-dir", t.TempDir(), "--pgbouncer", "apply")
	converged(t, p, 60*time.Second)
	if p.metric("pgreconciler_drift_items", `cluster="pg-e2e"`, `kind="pgbouncer"`) != 0 {
		t.Fatal("no pgbouncer series in pgreconciler_drift_items")
	}

	const appPw = "App.Pooled.2026"
	r.repo.WriteFile("fleet.cue", poolerSpec(port, fmt.Sprintf(`{name: "dbuser_app", password: %q, pgbouncer: true, roles: ["dbrole_readwrite"]}`, appPw)))
	r.repo.Commit("dbuser_app through the pooler", r.signer)
	took := waitFor(t, 60*time.Second, "dbuser_app to log in through the pooler", func() bool {
		conn, err := pgx.Connect(context.Background(), b.ConnString("dbuser_app", appPw, "app", "disable"))
		if err != nil {
			return false
		}
		defer conn.Close(context.Background())
		var one int
		return conn.QueryRow(context.Background(), "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&one) == nil
	})
	t.Logf("dbuser_app logs in through PgBouncer %s after the signed commit", took)

	// The pooler goes down: reported as pgbouncer drift, PostgreSQL still healed.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	cluster.Primary.MustLocal(t, "postgres", `REVOKE dbrole_readwrite FROM dbuser_app`)
	waitFor(t, 30*time.Second, "the pooler's absence in the drift metrics", func() bool {
		return p.metric("pgreconciler_drift_items", `cluster="pg-e2e"`, `kind="pgbouncer"`) == 1
	})
	waitFor(t, 30*time.Second, "the membership to be healed while the pooler is down", func() bool {
		v, _ := cluster.Primary.LocalValue(context.Background(), "postgres",
			"SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'dbuser_app'")
		return v == "1"
	})
	// The drift metric is set when a drift check has made its plan, /status
	// when the check's run ends: between the heal and the end of the run
	// that healed (its re-inspection, its change-log rows), /status still
	// shows the run before, in which the pooler was up. So the count is
	// waited for, not read once (one make test read it in that window).
	var status []byte
	waitFor(t, 30*time.Second, "/status to count the pooler's absence as pgbouncer drift", func() bool {
		status = p.get(t, "/status")
		return bytes.Contains(status, []byte(`"pgbouncer": 1`))
	})
	metrics := p.get(t, "/metrics")
	appVerifier := verifier("dbuser_app")
	for where, text := range map[string]string{"daemon log": p.logs(), "/status": string(status), "/metrics": string(metrics), "the pooler's log": b.Log()} {
		for _, secret := range []string{"SCRAM-SHA-256$", appPw, appVerifier, cluster.SuperPassword} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds a secret (%.14s…)", where, secret)
			}
		}
	}
	if !strings.Contains(p.logs(), `"kind":"pgbouncer"`) {
		t.Error("the daemon logged no PgBouncer change: the leak check proves nothing")
	}
}
