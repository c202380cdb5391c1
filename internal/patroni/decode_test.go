package patroni

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Shapes that the harness's Patroni 3.0.2 does not produce but Patroni 4
// (Pigsty v4's) does: "primary", "streaming", lag "unknown", a scheduled
// restart and switchover, DCS values of every JSON type. The live tests
// cover 3.0.2's own answers.
func TestDecodeNewerShapes(t *testing.T) {
	var rc rawCluster
	if err := json.Unmarshal([]byte(`{"members": [
		{"name": "pg-test-2", "role": "replica", "state": "streaming", "api_url": "https://10.10.10.12:8008/patroni",
		 "host": "10.10.10.12", "port": 5432, "timeline": 3, "lag": "unknown", "receive_lag": 0, "replay_lag": 0,
		 "scheduled_restart": {"schedule": "2026-12-02T03:00:00+00:00", "postgres_version": "15"},
		 "pending_restart": true, "pending_restart_reason": {"shared_buffers": {"old_value": "64MB", "new_value": "48MB"}},
		 "tags": {"nofailover": true, "clonefrom": true}},
		{"name": "pg-test-1", "role": "leader", "state": "running", "host": "10.10.10.11", "port": 5432, "timeline": 3},
		{"name": "pg-test-3", "role": "quorum_standby", "state": "streaming", "host": "10.10.10.13", "port": 5432, "timeline": 3, "lag": 1024}],
		"pause": true,
		"scheduled_switchover": {"at": "2026-12-02T04:00:00+00:00", "from": "pg-test-1", "to": "pg-test-2"}}`), &rc); err != nil {
		t.Fatal(err)
	}
	cl, err := rc.model()
	if err != nil {
		t.Fatal(err)
	}
	if cl.Members[0].Name != "pg-test-1" || !cl.Members[0].Role.Leads() || cl.Members[0].LagBytes != nil {
		t.Errorf("leader %+v (members sorted by name)", cl.Members[0])
	}
	r := cl.Member("pg-test-2")
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	if !r.State.Running() || r.LagBytes != nil || !r.PendingRestart || !r.NoFailover || r.ScheduledRestart == nil || !r.ScheduledRestart.Equal(at) {
		t.Errorf("replica %+v", r)
	}
	if q := cl.Member("pg-test-3"); q.LagBytes == nil || *q.LagBytes != 1024 || q.Role.Leads() {
		t.Errorf("quorum standby %+v", q)
	}
	if !cl.Paused || cl.ScheduledSwitchover == nil || cl.ScheduledSwitchover.To != "pg-test-2" {
		t.Errorf("cluster %+v", cl)
	}

	var rs rawStatus
	if err := json.Unmarshal([]byte(`{"state": "running", "role": "primary", "server_version": 170004, "timeline": 3,
		"postmaster_start_time": "2026-12-02 02:46:43.150014+00:00", "patroni": {"version": "4.0.4", "scope": "pg-test", "name": "pg-test-1"}}`), &rs); err != nil {
		t.Fatal(err)
	}
	st, err := rs.model()
	if err != nil || st.Role != "primary" || st.PostmasterStartTime.Nanosecond() != 150014000 || st.PatroniVersion != "4.0.4" {
		t.Errorf("status %+v %v", st, err)
	}
	rs.Role = "master"
	if st, _ := rs.model(); st.Role != "primary" {
		t.Errorf("master is not normalised: %s", st.Role)
	}

	var cfg rawConfig
	if err := json.Unmarshal([]byte(`{"ttl": 30, "loop_wait": 10, "retry_timeout": 10, "master_start_timeout": 25,
		"synchronous_mode": "quorum", "postgresql": {"parameters": {"max_connections": 500, "parallel_tuple_cost": 0.2,
		"wal_log_hints": "on", "auto_explain.log_nested_statements": true, "hot_standby_feedback": false, "log_min_duration_statement": -1}}}`), &cfg); err != nil {
		t.Fatal(err)
	}
	c, err := cfg.model()
	if err != nil || c.PrimaryStartTimeout == nil || *c.PrimaryStartTimeout != 25 || !c.SynchronousMode {
		t.Fatalf("config %+v %v", c, err)
	}
	for name, want := range map[string]string{"max_connections": "500", "parallel_tuple_cost": "0.2", "wal_log_hints": "on",
		"auto_explain.log_nested_statements": "on", "hot_standby_feedback": "off", "log_min_duration_statement": "-1"} {
		if v, _ := c.Parameter(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if c.Parameters[0].Name != "auto_explain.log_nested_statements" {
		t.Errorf("parameters not sorted: %v", c.Parameters)
	}
	if err := json.Unmarshal([]byte(`{"postgresql": {"parameters": {"x": [1]}}}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.model(); err == nil || !strings.Contains(err.Error(), "postgresql.parameters.x") {
		t.Errorf("a list value: %v", err)
	}
}

func TestEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"http://10.10.10.11:8008":   "http://10.10.10.11:8008/cluster",
		"https://10.10.10.11:8008/": "https://10.10.10.11:8008/cluster",
		"http://[::1]:8008":         "http://[::1]:8008/cluster",
	} {
		if got, err := endpoint(base, "/cluster"); err != nil || got != want {
			t.Errorf("endpoint(%q) = %q, %v", base, got, err)
		}
	}
	for _, bad := range []string{"http://u:Sekrit@10.10.10.11:8008", "http://10.10.10.11:8008/x", "file:///etc/passwd", "10.10.10.11:8008", "http://%zz:Sekrit@h"} {
		_, err := endpoint(bad, "/cluster")
		if err == nil || strings.Contains(err.Error(), "Sekrit") {
			t.Errorf("endpoint(%q): %v", bad, err)
		}
	}
	if BaseURL("10.10.10.11", 8008, true) != "https://10.10.10.11:8008" || BaseURL("::1", 8008, false) != "http://[::1]:8008" {
		t.Error("BaseURL")
	}
}

func TestHTTPError(t *testing.T) {
	e := &HTTPError{Method: "POST", URL: "http://h:8008/reload", Status: 401, Message: oneLine([]byte("no auth\nheader\x00 received"))}
	if !errors.Is(e, ErrUnauthorized) || errors.Is(e, ErrForbidden) {
		t.Error("Is")
	}
	if e.Error() != "POST http://h:8008/reload: 401 Unauthorized: no auth header received" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(&HTTPError{Status: 502}, ErrServer) || !errors.Is(&HTTPError{Status: 422}, ErrBadRequest) {
		t.Error("Is for 502/422")
	}
	if got := oneLine([]byte(strings.Repeat("x", 300))); len(got) > 210 {
		t.Errorf("oneLine kept %d bytes", len(got))
	}
}
