package patroni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Cluster reads GET /cluster from one member: every member as the DCS
// knows it, with roles, states, timelines, lag and pending restarts.
func (c *Client) Cluster(ctx context.Context, base string) (*model.PatroniCluster, error) {
	var raw rawCluster
	if err := c.getJSON(ctx, base, "/cluster", &raw); err != nil {
		return nil, err
	}
	cl, err := raw.model()
	if err != nil {
		return nil, fmt.Errorf("decode GET %s/cluster: %w", base, err)
	}
	return cl, nil
}

// View reads GET /cluster from the first of bases that answers, so one
// member down does not hide the cluster; it fails only when none answers.
func (c *Client) View(ctx context.Context, bases []string) (*model.PatroniCluster, error) {
	var errs []error
	for _, b := range bases {
		cl, err := c.Cluster(ctx, b)
		if err == nil {
			return cl, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("read Patroni cluster view: no REST API address")
	}
	return nil, fmt.Errorf("read Patroni cluster view: %w", oneLineErrors(errs))
}

// oneLineErrors joins errors like errors.Join, but on one line, as a log
// line wants them.
type oneLineErrors []error

func (e oneLineErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e oneLineErrors) Unwrap() []error { return e }

// Status reads GET /patroni: the member's own report of its PostgreSQL.
func (c *Client) Status(ctx context.Context, base string) (*model.PatroniStatus, error) {
	var raw rawStatus
	if err := c.getJSON(ctx, base, "/patroni", &raw); err != nil {
		return nil, err
	}
	st, err := raw.model()
	if err != nil {
		return nil, fmt.Errorf("decode GET %s/patroni: %w", base, err)
	}
	return st, nil
}

// Config reads GET /config: the dynamic configuration in the DCS,
// including postgresql.parameters.
func (c *Client) Config(ctx context.Context, base string) (*model.PatroniConfig, error) {
	var raw rawConfig
	if err := c.getJSON(ctx, base, "/config", &raw); err != nil {
		return nil, err
	}
	cfg, err := raw.model()
	if err != nil {
		return nil, fmt.Errorf("decode GET %s/config: %w", base, err)
	}
	return cfg, nil
}

// Reload asks the member's Patroni to reload (POST /reload, what
// `patronictl reload` sends): it rereads its configuration, reloads
// PostgreSQL and then sets pending_restart from pg_settings. Patroni
// answers before it has done so (202); the caller that needs the effect
// waits for it (pg_conf_load_time on the instance).
func (c *Client) Reload(ctx context.Context, base string) error {
	r, err := c.do(ctx, http.MethodPost, base, "/reload", nil, true, c.timeout)
	if err != nil {
		return err
	}
	return expect(http.MethodPost, base, "/reload", r, http.StatusAccepted, http.StatusOK)
}

// RestartRequest is the body of POST /restart.
type RestartRequest struct {
	// Schedule, when set, asks Patroni to restart then (a maintenance
	// window) instead of now; it must be in the future.
	Schedule time.Time
	// Pending restarts only when PostgreSQL has a pending restart.
	Pending bool
	// Role restarts only when the member has this role: "primary" or
	// "replica"; "" for any.
	Role string
	// Timeout is how long PostgreSQL may take to start before Patroni
	// gives up; zero means Patroni's primary_start_timeout.
	Timeout time.Duration
}

// RestartResult is what POST /restart did.
type RestartResult int

const (
	Restarted        RestartResult = iota + 1 // PostgreSQL restarted and runs
	RestartScheduled                          // Patroni will restart at the schedule
	RestartSkipped                            // the conditions (Pending, Role) did not hold: nothing happened
)

func (r RestartResult) String() string {
	switch r {
	case Restarted:
		return "restarted"
	case RestartScheduled:
		return "scheduled"
	case RestartSkipped:
		return "skipped"
	}
	return "unknown"
}

// Restart asks the member's Patroni to restart PostgreSQL (POST /restart).
// Without a schedule Patroni answers when PostgreSQL is back, so the call
// waits up to req.Timeout (or Patroni's default primary_start_timeout, 300 s,
// when it is zero) plus the client's timeout, and no longer than ctx. It
// never restarts a member whose conditions do not hold: that is
// RestartSkipped, not an error.
func (c *Client) Restart(ctx context.Context, base string, req RestartRequest) (RestartResult, error) {
	body := map[string]any{}
	if !req.Schedule.IsZero() {
		body["schedule"] = req.Schedule.Format(time.RFC3339)
	}
	if req.Pending {
		body["restart_pending"] = true
	}
	if req.Role != "" {
		body["role"] = req.Role
	}
	if req.Timeout > 0 {
		body["timeout"] = int((req.Timeout + time.Second - 1) / time.Second)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, fmt.Errorf("encode restart request: %w", err)
	}
	timeout := c.timeout
	if req.Schedule.IsZero() {
		start := req.Timeout
		if start <= 0 {
			start = 300 * time.Second
		}
		timeout += start
	}
	r, err := c.do(ctx, http.MethodPost, base, "/restart", b, true, timeout)
	if err != nil {
		return 0, err
	}
	switch {
	case r.status == http.StatusOK:
		return Restarted, nil
	case r.status == http.StatusAccepted:
		return RestartScheduled, nil
	case r.status == http.StatusServiceUnavailable && oneLine(r.body) == "restart conditions are not satisfied":
		return RestartSkipped, nil
	}
	return 0, expect(http.MethodPost, base, "/restart", r)
}

// CancelRestart deletes the member's scheduled restart (DELETE /restart);
// it is not an error when none is scheduled.
func (c *Client) CancelRestart(ctx context.Context, base string) error {
	r, err := c.do(ctx, http.MethodDelete, base, "/restart", nil, true, c.timeout)
	if err != nil {
		return err
	}
	return expect(http.MethodDelete, base, "/restart", r, http.StatusOK, http.StatusNotFound)
}

func (c *Client) getJSON(ctx context.Context, base, path string, v any) error {
	r, err := c.do(ctx, http.MethodGet, base, path, nil, false, c.timeout)
	if err != nil {
		return err
	}
	// GET /patroni answers 503 with a full body while PostgreSQL is down.
	ok := []int{http.StatusOK}
	if path == "/patroni" {
		ok = append(ok, http.StatusServiceUnavailable)
	}
	if err := expect(http.MethodGet, base, path, r, ok...); err != nil {
		return err
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("decode GET %s%s: %w", base, path, err)
	}
	return nil
}

// The raw shapes of Patroni's answers (3.0 to 4.x): only what the model
// needs, tolerant of fields that newer versions add.

type rawCluster struct {
	Members []rawMember `json:"members"`
	Pause   bool        `json:"pause"`
	Sched   *struct {
		At   string `json:"at"`
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"scheduled_switchover"`
}

type rawMember struct {
	Name           string          `json:"name"`
	Role           string          `json:"role"`
	State          string          `json:"state"`
	APIURL         string          `json:"api_url"`
	Host           string          `json:"host"`
	Port           int             `json:"port"`
	Timeline       int             `json:"timeline"`
	Lag            json.RawMessage `json:"lag"` // bytes, or "unknown"
	PendingRestart bool            `json:"pending_restart"`
	Scheduled      *rawScheduled   `json:"scheduled_restart"`
	Tags           struct {
		NoFailover bool `json:"nofailover"`
	} `json:"tags"`
}

type rawScheduled struct {
	Schedule string `json:"schedule"`
}

func (r rawCluster) model() (*model.PatroniCluster, error) {
	cl := &model.PatroniCluster{Paused: r.Pause}
	for _, m := range r.Members {
		pm := model.PatroniMember{
			Name: m.Name, Host: m.Host, Port: m.Port, APIURL: m.APIURL,
			Role: model.PatroniRole(m.Role), State: model.PatroniState(m.State),
			Timeline: m.Timeline, PendingRestart: m.PendingRestart, NoFailover: m.Tags.NoFailover,
		}
		if len(m.Lag) > 0 && m.Lag[0] != '"' && string(m.Lag) != "null" {
			n, err := strconv.ParseInt(string(m.Lag), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("member %s: lag %s: %w", m.Name, m.Lag, err)
			}
			pm.LagBytes = &n
		}
		t, err := m.Scheduled.time()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", m.Name, err)
		}
		pm.ScheduledRestart = t
		cl.Members = append(cl.Members, pm)
	}
	if r.Sched != nil {
		at, err := parseTime(r.Sched.At)
		if err != nil {
			return nil, fmt.Errorf("scheduled switchover: %w", err)
		}
		cl.ScheduledSwitchover = &model.PatroniSwitchover{At: at, From: r.Sched.From, To: r.Sched.To}
	}
	sortMembers(cl.Members)
	return cl, nil
}

func (s *rawScheduled) time() (*time.Time, error) {
	if s == nil || s.Schedule == "" {
		return nil, nil
	}
	t, err := parseTime(s.Schedule)
	if err != nil {
		return nil, fmt.Errorf("scheduled restart: %w", err)
	}
	return &t, nil
}

type rawStatus struct {
	State          string        `json:"state"`
	Role           string        `json:"role"`
	ServerVersion  int           `json:"server_version"`
	Timeline       int           `json:"timeline"`
	PostmasterAt   string        `json:"postmaster_start_time"`
	PendingRestart bool          `json:"pending_restart"`
	Scheduled      *rawScheduled `json:"scheduled_restart"`
	Pause          bool          `json:"pause"`
	Unlocked       bool          `json:"cluster_unlocked"`
	Failsafe       bool          `json:"failsafe_mode_is_active"`
	SystemID       string        `json:"database_system_identifier"`
	Patroni        struct {
		Version string `json:"version"`
		Scope   string `json:"scope"`
	} `json:"patroni"`
}

func (r rawStatus) model() (*model.PatroniStatus, error) {
	st := &model.PatroniStatus{
		State: model.PatroniState(r.State), Role: r.Role, ServerVersion: r.ServerVersion,
		Timeline: r.Timeline, PendingRestart: r.PendingRestart, Paused: r.Pause,
		ClusterUnlocked: r.Unlocked, FailsafeActive: r.Failsafe,
		Scope: r.Patroni.Scope, PatroniVersion: r.Patroni.Version, SystemIdentifier: r.SystemID,
	}
	if st.Role == "master" { // Patroni before 3.1
		st.Role = "primary"
	}
	if r.PostmasterAt != "" {
		t, err := parseTime(r.PostmasterAt)
		if err != nil {
			return nil, fmt.Errorf("postmaster_start_time: %w", err)
		}
		st.PostmasterStartTime = t
	}
	t, err := r.Scheduled.time()
	if err != nil {
		return nil, err
	}
	st.ScheduledRestart = t
	return st, nil
}

// parseTime reads Patroni's timestamps: ISO 8601 (scheduled restarts and
// switchovers) or Python's str() of a datetime with a space
// ("2026-12-02 02:46:43.150014+00:00", postmaster_start_time).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q: not ISO 8601", s)
}
