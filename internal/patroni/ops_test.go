package patroni_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// A pg_hba.conf change on a replica takes effect through POST /reload, and
// not before it.
func TestReloadAppliesHBA(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	r := replica(t, c)
	orig, err := os.ReadFile(r.HBAPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(r.HBAPath(), orig, 0o600); err != nil {
			t.Error(err)
		}
		reloadAndWait(t, cl, r) // so that the next test does not see this reload
	})
	monitor := func() error {
		conn, err := r.Connect(ctx, c.MonitorUser, c.MonitorPassword, "postgres")
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	if err := monitor(); err != nil {
		t.Fatalf("dbuser_monitor cannot connect before the change: %v", err)
	}
	reject := "host all dbuser_monitor 127.0.0.0/8 reject\n"
	if err := os.WriteFile(r.HBAPath(), append([]byte(reject), orig...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := monitor(); err != nil {
		t.Fatalf("the new file took effect without a reload: %v", err)
	}
	if err := cl.Reload(ctx, r.APIURL()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, "the reject rule to take effect", func() (bool, error) {
		err := monitor()
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "28000" && strings.Contains(pgErr.Message, "rejects"), err
	})
	if err := os.WriteFile(r.HBAPath(), orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cl.Reload(ctx, r.APIURL()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, "the rule to go again", func() (bool, error) { err := monitor(); return err == nil, err })
}

// A postmaster parameter changed with ALTER SYSTEM is pending_restart in
// Patroni once Patroni reloads, clears after POST /restart, and
// restart_pending restarts nothing when nothing is pending.
func TestPendingRestartThenRestart(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	r := replica(t, c)
	t.Cleanup(func() { resetSharedBuffers(t, c, cl, r) })

	setSharedBuffers(t, c, cl, r, "48MB")
	before := status(t, cl, r)
	res, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Pending: true, Role: "replica", Timeout: time.Minute})
	if err != nil || res != patroni.Restarted {
		t.Fatalf("restart: %v %v", res, err)
	}
	after := status(t, cl, r)
	if after.PendingRestart || !after.PostmasterStartTime.After(before.PostmasterStartTime) {
		t.Fatalf("after restart: pending %v, postmaster started %s (before %s)", after.PendingRestart, after.PostmasterStartTime, before.PostmasterStartTime)
	}
	if got := show(t, r, "shared_buffers"); got != "48MB" {
		t.Fatalf("shared_buffers = %s after the restart", got)
	}
	waitUntil(t, ctx, "the DCS to clear pending_restart", func() (bool, error) {
		v, err := cl.View(ctx, bases(c))
		return err == nil && !v.Member(r.Name()).PendingRestart, err
	})

	res, err = cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Pending: true, Timeout: time.Minute})
	if err != nil || res != patroni.RestartSkipped {
		t.Fatalf("restart with nothing pending: %v %v", res, err)
	}
	if again := status(t, cl, r); !again.PostmasterStartTime.Equal(after.PostmasterStartTime) {
		t.Fatalf("restart_pending with nothing pending restarted the member")
	}
}

// A scheduled restart (a maintenance window) is reported, then performed by
// Patroni at its time; a schedule in the past and a role that does not
// match are refused without a restart.
func TestScheduledRestart(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	r := replica(t, c)
	t.Cleanup(func() { resetSharedBuffers(t, c, cl, r) })

	if _, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Schedule: time.Now().Add(-time.Hour)}); !errors.Is(err, patroni.ErrBadRequest) {
		t.Fatalf("restart scheduled in the past: %v", err)
	}
	setSharedBuffers(t, c, cl, r, "40MB")
	before := status(t, cl, r)
	if res, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Pending: true, Role: "primary"}); err != nil || res != patroni.RestartSkipped {
		t.Fatalf("restart of a replica with role primary: %v %v", res, err)
	}
	at := time.Now().Add(4 * time.Second).Truncate(time.Second)
	res, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Schedule: at, Pending: true, Timeout: time.Minute})
	if err != nil || res != patroni.RestartScheduled {
		t.Fatalf("scheduled restart: %v %v", res, err)
	}
	if _, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Schedule: at.Add(time.Hour)}); !errors.Is(err, patroni.ErrConflict) {
		t.Fatalf("a second scheduled restart: %v", err)
	}
	st := status(t, cl, r)
	if st.ScheduledRestart == nil || !st.ScheduledRestart.Equal(at) || !st.PendingRestart {
		t.Fatalf("status after scheduling: scheduled %v pending %v, want %s", st.ScheduledRestart, st.PendingRestart, at)
	}
	waitUntil(t, ctx, "the DCS to show the schedule", func() (bool, error) {
		v, err := cl.View(ctx, bases(c))
		if err != nil {
			return false, err
		}
		s := v.Member(r.Name()).ScheduledRestart
		return s != nil && s.Equal(at), nil
	})
	waitUntil(t, ctx, "the scheduled restart", func() (bool, error) {
		st, err := cl.Status(ctx, r.APIURL())
		return err == nil && st.State.Running() && !st.PendingRestart && st.ScheduledRestart == nil &&
			st.PostmasterStartTime.After(before.PostmasterStartTime), err
	})
	if started := status(t, cl, r).PostmasterStartTime; started.Before(at) {
		t.Fatalf("restarted at %s, before the schedule %s", started, at)
	}
	if got := show(t, r, "shared_buffers"); got != "40MB" {
		t.Fatalf("shared_buffers = %s after the scheduled restart", got)
	}
	// A schedule can be taken back.
	later := time.Now().Add(time.Hour)
	if res, err := cl.Restart(ctx, r.APIURL(), patroni.RestartRequest{Schedule: later}); err != nil || res != patroni.RestartScheduled {
		t.Fatalf("schedule: %v %v", res, err)
	}
	if err := cl.CancelRestart(ctx, r.APIURL()); err != nil {
		t.Fatal(err)
	}
	if st := status(t, cl, r); st.ScheduledRestart != nil {
		t.Fatalf("scheduled restart still there after cancel: %v", st.ScheduledRestart)
	}
	// The member forgets at once; the DCS (what /cluster shows, and the
	// next test reads) at the member's next HA loop.
	waitUntil(t, ctx, "the DCS to forget the schedule", func() (bool, error) {
		v, err := cl.View(ctx, bases(c))
		if err != nil {
			return false, err
		}
		return v.Member(r.Name()).ScheduledRestart == nil, nil
	})
	if err := cl.CancelRestart(ctx, r.APIURL()); err != nil {
		t.Fatalf("cancel with nothing scheduled: %v", err)
	}
}

// setSharedBuffers changes a postmaster parameter with ALTER SYSTEM on m,
// checks that Patroni does not know before its reload, reloads through
// Patroni and waits until Patroni reports the pending restart.
func setSharedBuffers(t *testing.T, c *patronienv.Cluster, cl *patroni.Client, m *patronienv.Member, v string) {
	t.Helper()
	ctx := ctx(t)
	if err := m.Exec(ctx, "ALTER SYSTEM SET shared_buffers = '"+v+"'"); err != nil {
		t.Fatal(err)
	}
	if err := m.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // more than a Patroni loop
	if status(t, cl, m).PendingRestart {
		t.Fatal("Patroni reported pending_restart before it reloaded")
	}
	if err := cl.Reload(ctx, m.APIURL()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, "Patroni's pending_restart", func() (bool, error) {
		st, err := cl.Status(ctx, m.APIURL())
		return err == nil && st.PendingRestart, err
	})
	waitUntil(t, ctx, "pending_restart in the DCS", func() (bool, error) {
		v, err := cl.View(ctx, bases(c))
		return err == nil && v.Member(m.Name()).PendingRestart, err
	})
}

// resetSharedBuffers puts shared_buffers back and restarts m if needed.
func resetSharedBuffers(t *testing.T, c *patronienv.Cluster, cl *patroni.Client, m *patronienv.Member) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = cl.CancelRestart(ctx, m.APIURL())
	if err := m.Exec(ctx, "ALTER SYSTEM RESET shared_buffers"); err != nil {
		t.Error(err)
		return
	}
	if _, err := cl.Restart(ctx, m.APIURL(), patroni.RestartRequest{Timeout: time.Minute}); err != nil {
		t.Error(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Error(err)
	}
}

// reloadAndWait reloads m through Patroni and waits until PostgreSQL has
// reloaded (pg_conf_load_time moved) and Patroni has read pending_restart,
// which it does one second after the reload (patroni/postgresql/config.py),
// so that the reload is over before the next step.
func reloadAndWait(t *testing.T, cl *patroni.Client, m *patronienv.Member) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := confLoadTime(t, ctx, m)
	if err := cl.Reload(ctx, m.APIURL()); err != nil {
		t.Error(err)
		return
	}
	waitUntil(t, ctx, "PostgreSQL to reload", func() (bool, error) {
		return confLoadTime(t, ctx, m).After(before), nil
	})
	time.Sleep(2 * time.Second)
}

func confLoadTime(t *testing.T, ctx context.Context, m *patronienv.Member) time.Time {
	t.Helper()
	conn, err := m.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var at time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}

func status(t *testing.T, cl *patroni.Client, m *patronienv.Member) *model.PatroniStatus {
	t.Helper()
	st, err := cl.Status(ctx(t), m.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func show(t *testing.T, m *patronienv.Member, name string) string {
	t.Helper()
	ctx := ctx(t)
	conn, err := m.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
