package drift

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// SessionRecorder records the PostgreSQL sessions the daemon opens and
// the ones it keeps between drift checks to reuse them. No labels: the
// counts are the daemon's, over every cluster.
type SessionRecorder struct {
	opened prometheus.Counter
	reused prometheus.Counter
	kept   prometheus.Gauge
}

// NewSessionRecorder creates the sessions' collectors and registers them
// on reg.
func NewSessionRecorder(reg prometheus.Registerer) (*SessionRecorder, error) {
	r := &SessionRecorder{
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_opened_total",
			Help: "Sessions the daemon opened to PostgreSQL and PgBouncer (logins).",
		}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_reused_total",
			Help: "Inspections of an instance by a drift check read on a session an earlier check kept, instead of a new one.",
		}),
		kept: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "sessions_kept",
			Help: "Sessions kept open, idle, between drift checks (they count against max_sessions).",
		}),
	}
	for i, c := range []prometheus.Collector{r.opened, r.reused, r.kept} {
		if err := reg.Register(c); err != nil {
			for _, done := range []prometheus.Collector{r.opened, r.reused, r.kept}[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return r, nil
}

// Opened counts a session opened.
func (r *SessionRecorder) Opened() { r.opened.Inc() }

// Reused counts an inspection read on a kept session.
func (r *SessionRecorder) Reused() { r.reused.Inc() }

// Kept adds n (negative: fewer) to the sessions kept.
func (r *SessionRecorder) Kept(n int) { r.kept.Add(float64(n)) }
