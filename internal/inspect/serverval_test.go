package inspect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// dialerParams are startup parameters as the reconciler's dialer sends
// them: the session runs values of its own.
func dialerParams() map[string]string {
	return map[string]string{"statement_timeout": "123000", "idle_in_transaction_session_timeout": "600000",
		"tcp_keepalives_idle": "30"}
}

// serverValue is what a setting should show.
type serverValue struct {
	name, setting, source, file string
	session, sessionSource      string // "" when the session runs the server's value
}

func checkServerValues(t *testing.T, st *model.InstanceState, want []serverValue) {
	t.Helper()
	for _, w := range want {
		s := st.Settings[w.name]
		if s == nil {
			t.Errorf("%s: not inspected", w.name)
			continue
		}
		got := serverValue{s.Name, s.Setting, s.Source, s.SourceFile, s.SessionSetting, s.SessionSource}
		if got != w || s.Unknown != "" {
			t.Errorf("%s:\n got %+v (unknown %q)\nwant %+v", w.name, got, s.Unknown, w)
		}
	}
}

// nextSecond waits until a second has begun after now: pg_stat_file has
// whole seconds, so a file written then is visibly newer than a reload
// before.
func nextSecond() {
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
}

// TestServerValues: a setting whose value the inspecting session got from
// its startup packet, its role or its database shows the server's value,
// from the configuration files or the built-in default, with the
// session's own beside it; settings the session did not touch keep
// pg_settings' value. What cannot be told is Unknown, never a guess: the
// files unreadable, modified after the last reload, or holding a value
// the server does not apply.
func TestServerValues(t *testing.T) {
	c := fresh(t)
	p := c.Primary
	execIn(t, p, "postgres",
		"ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min'",
		"ALTER ROLE "+c.SuperUser+" SET work_mem = '64MB'",
		"ALTER DATABASE postgres SET lock_timeout = '3s'",
		"ALTER ROLE "+c.SuperUser+" IN DATABASE postgres SET temp_buffers = '16MB'")
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	auto, conf := filepath.Join(p.DataDir, "postgresql.auto.conf"), filepath.Join(p.DataDir, "postgresql.conf")
	l := superuser(p)
	l.params = dialerParams()
	checkServerValues(t, l.mustInspect(t), []serverValue{
		{"statement_timeout", "0", "default", "", "123000", "client"},
		{"idle_in_transaction_session_timeout", "300000", "configuration file", auto, "600000", "client"},
		{"tcp_keepalives_idle", "0", "default", "", "30", "client"},
		{"application_name", "", "default", "", testAppName, "client"},
		{"work_mem", "4096", "default", "", "65536", "user"},
		{"lock_timeout", "0", "default", "", "3000", "database"},
		{"temp_buffers", "1024", "default", "", "2048", "database user"},
		{"log_min_duration_statement", "0", "configuration file", conf, "", ""},
	})

	t.Run("unprivileged", func(t *testing.T) {
		m := monitor(p)
		m.params = dialerParams()
		st := m.mustInspect(t)
		if s := st.Settings["statement_timeout"]; s.Unknown == "" || !strings.Contains(s.Unknown, "not readable by "+c.MonitorUser) ||
			s.Setting != "" || s.SessionSetting != "123000" {
			t.Errorf("statement_timeout: %+v", s)
		}
		checkServerValues(t, st, []serverValue{{"log_min_duration_statement", "0", "configuration file", conf, "", ""}})
	})

	t.Run("modified after the last reload", func(t *testing.T) {
		nextSecond()
		execIn(t, p, "postgres", "ALTER SYSTEM SET statement_timeout = '7s'")
		st := l.mustInspect(t)
		for _, name := range []string{"statement_timeout", "work_mem"} {
			if s := st.Settings[name]; !strings.Contains(s.Unknown, "modified after the last reload") || !s.Unloaded || s.Setting != "" {
				t.Errorf("%s: %+v", name, s)
			}
		}
		checkServerValues(t, st, []serverValue{{"log_min_duration_statement", "0", "configuration file", conf, "", ""}})
	})

	t.Run("a value the server does not apply", func(t *testing.T) {
		f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, werr := f.WriteString("lock_timeout = 'lots'\n")
		if err := errors.Join(werr, f.Close()); err != nil {
			t.Fatal(err)
		}
		if err := p.Reload(); err != nil {
			t.Fatal(err)
		}
		st := l.mustInspect(t)
		if s := st.Settings["lock_timeout"]; !strings.Contains(s.Unknown, "does not apply") || s.Unloaded || s.Setting != "" {
			t.Errorf("lock_timeout: %+v", s)
		}
		checkServerValues(t, st, []serverValue{{"statement_timeout", "7000", "configuration file", auto, "123000", "client"}})
	})
}

// TestReadSettingAfterReload: a backend parameter is fixed when a session
// starts, so after a reload the session's pg_settings shows the old value
// with the server's own source; ReadSetting reports what new sessions get.
func TestReadSettingAfterReload(t *testing.T) {
	c := fresh(t)
	p := c.Primary
	conn, err := superuser(p).dial(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "ALTER SYSTEM SET log_connections = on"); err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSetting(t.Context(), conn, "LOG_CONNECTIONS")
	if err != nil {
		t.Fatal(err)
	}
	got := serverValue{s.Name, s.Setting, s.Source, s.SourceFile, s.SessionSetting, s.SessionSource}
	// PostgreSQL 18's log_connections lists aspects, none by default.
	was := "off"
	if c.Major >= 18 {
		was = ""
	}
	want := serverValue{"log_connections", "on", "configuration file", filepath.Join(p.DataDir, "postgresql.auto.conf"), was, "default"}
	if got != want || s.Unknown != "" {
		t.Fatalf("got %+v (unknown %q), want %+v", got, s.Unknown, want)
	}
	if s, err := ReadSetting(t.Context(), conn, "no_such_parameter"); s != nil || err != nil {
		t.Fatalf("an unknown parameter: %+v, %v", s, err)
	}
}

// TestCommandLine: a value on the postmaster's command line (as Patroni
// passes them) beats the configuration files and ALTER SYSTEM, and is the
// server's value under a session's own.
func TestCommandLine(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-cmdline", Replicas: -1, BaseIP: 65,
		Args: []string{"--statement-timeout=1min", "-c", "work_mem=8MB"}})
	p := c.Primary
	for _, sql := range []string{"ALTER SYSTEM SET work_mem = '2MB'", "ALTER SYSTEM SET statement_timeout = '2min'",
		"ALTER ROLE " + c.SuperUser + " SET work_mem = '1MB'"} {
		if err := p.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	l := login{server: p, user: c.SuperUser, password: c.SuperPassword, count: &testenv.RoundTrips{}, params: dialerParams()}
	checkServerValues(t, l.mustInspect(t), []serverValue{
		{"statement_timeout", "60000", "command line", "", "123000", "client"},
		{"work_mem", "8192", "command line", "", "1024", "user"},
	})
	conn, err := l.dial(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	s, err := ReadSetting(t.Context(), conn, "statement_timeout")
	if err != nil || s.Setting != "60000" || s.Source != "command line" || s.SessionSetting != "123000" {
		t.Fatalf("ReadSetting: %+v, %v", s, err)
	}
}
