package dbconn

import (
	"context"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func TestConnect(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-dial", Replicas: -1, BaseIP: 41})
	ctx := context.Background()
	in := &model.Instance{Cluster: "pg-dial", Seq: 1, IP: c.Primary.Addr, Port: c.Primary.Port}

	t.Setenv("PGUSER", c.SuperUser)
	t.Setenv("PGPASSWORD", c.SuperPassword)
	t.Setenv("PGSSLMODE", "verify-full")
	t.Setenv("PGSSLROOTCERT", c.CACertFile)
	d := New(Settings{}, nil).WithCommit("0123456789abcdef0123")
	conn, err := d.Connect(ctx, in, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var app, user string
	var ssl bool
	if err := conn.QueryRow(ctx, `SELECT current_setting('application_name'), current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&app, &user, &ssl); err != nil {
		t.Fatal(err)
	}
	if app != "pgreconciler@0123456789ab" || user != c.SuperUser || !ssl {
		t.Fatalf("session: app=%q user=%q ssl=%v", app, user, ssl)
	}
	// The server itself probes the session, so a vanished reconciler's
	// advisory lock goes with it; no server-wide idle timeout ends it
	// (PostgreSQL 14+: 13 has none, and refuses a login that sets it).
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET idle_session_timeout = '1min'"); c.Major >= 14 && err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET createrole_self_grant = 'set, inherit'"); c.Major >= 16 && err != nil {
		t.Fatal(err)
	}
	if err := c.Primary.Reload(); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if conn, err = d.Connect(ctx, in, "postgres"); err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var idle, interval, count, idleSession string
	if err := conn.QueryRow(ctx, `SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'),
		current_setting('tcp_keepalives_count'), coalesce(current_setting('idle_session_timeout', true), 'none')`).Scan(&idle, &interval, &count, &idleSession); err != nil {
		t.Fatal(err)
	}
	wantIdle := "0"
	if c.Major < 14 {
		wantIdle = "none"
	}
	if idle != "30" || interval != "10" || count != "6" || idleSession != wantIdle {
		t.Fatalf("keepalives idle=%s interval=%s count=%s, idle_session_timeout=%s (want %s)", idle, interval, count, idleSession, wantIdle)
	}
	// From 16, a role the reconciler creates does not make it a member.
	var selfGrant string
	if err := conn.QueryRow(ctx, "SELECT coalesce(current_setting('createrole_self_grant', true), 'none')").Scan(&selfGrant); err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: "", false: "none"}[c.Major >= 16]; selfGrant != want {
		t.Fatalf("createrole_self_grant = %q, want %q", selfGrant, want)
	}

	// A per-cluster override wins over the environment, and a failed login
	// never shows the password.
	secret := "Sup3r-Secret-Password"
	d = New(Settings{}, map[string]Settings{"pg-dial": {User: "nobody", Password: model.NewSecret(secret)}})
	_, err = d.Connect(ctx, in, "postgres")
	if err == nil {
		t.Fatal("login as nobody succeeded")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "pg-dial-1") || SQLState(err) != "28P01" {
		t.Fatalf("error: %v (sqlstate %q)", err, SQLState(err))
	}
}
