package drift

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// newRecorder returns a Recorder on a fresh pedantic registry.
func newRecorder(t *testing.T) (*Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	r, err := NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

// populated returns the daemon's registry (Go and process collectors) with
// a Recorder on which every method has been called, so that every metric
// family has at least one series.
func populated(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := NewRegistry()
	r, err := NewRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	r.ObserveDrift("pg-test", []string{"pg-test-1", "pg-test-2"}, plan.ClusterPlan{Name: "pg-test", Changes: []plan.Change{
		{Kind: plan.KindRole, Action: plan.ActionCreate, Instance: "pg-test-1"},
		{Kind: plan.KindHBA, Action: plan.ActionReport, Instance: "pg-test-2"},
	}})
	r.ObserveApplied(&plan.Result{Cluster: "pg-test", Outcomes: []plan.Outcome{
		{Change: plan.Change{Kind: plan.KindRole, Action: plan.ActionCreate}, Status: plan.StatusApplied},
	}})
	r.ObserveReconcile("pg-test", plan.VerdictSuccess, 1500*time.Millisecond, at)
	r.SetInstanceUp("pg-test", "pg-test-1", true)
	r.SetInstanceUp("pg-test", "pg-test-2", false)
	r.SetPendingRestart("pg-test", "pg-test-1", 2)
	r.SetSource("fleet", "0123456789abcdef0123456789abcdef01234567", "dba@example.com")
	r.SourceFetched("fleet", at)
	r.VerificationFailed("fleet", model.RefusalUnsigned)
	cr, err := NewControlRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	cr.SetControls("pg-test", []ControlSample{{Instance: "pg-test-1", Control: "MLPS3-DataIntegrity", Pass: true}}, at)
	sr, err := NewSessionRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	sr.Opened()
	sr.Reused()
	sr.Kept(1)
	return reg
}

// exposition is the text a Prometheus scrape of reg receives.
func exposition(t *testing.T, reg *prometheus.Registry) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// promtool runs promtool with args (and stdin, when not nil) and fails the
// test with its output when it exits non-zero. promtool is required: `make
// test` installs it (scripts/install-deps.sh).
func promtool(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is required to check metrics and alert rules: run `make deps` (Debian: apt-get install prometheus): %v", err)
	}
	cmd := exec.Command(path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
}
