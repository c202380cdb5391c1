package drift

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ControlRecorder records the daemon's periodic compliance audit: one
// series per cluster, instance and control of the security reference
// (MLPS3-…, SOC2-…), 1 while the control passes there and 0 while it
// fails. A control the audit could not judge (unknown: no privilege, the
// instance unreachable) or that does not apply has no series: absent is
// not a pass. The controls are a closed set (package audit's table), so
// the labels stay bounded.
type ControlRecorder struct {
	status  *prometheus.GaugeVec
	audited *prometheus.GaugeVec

	mu     sync.Mutex
	series map[string]map[[2]string]bool // cluster → (instance, control) set last time
}

// ControlSample is one judged control on one instance.
type ControlSample struct {
	Instance, Control string
	Pass              bool
}

// NewControlRecorder creates the audit's collectors and registers them on
// reg.
func NewControlRecorder(reg prometheus.Registerer) (*ControlRecorder, error) {
	r := &ControlRecorder{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "control_status",
			Help: "Compliance control of the security reference (MLPS Level 3, SOC 2) on an instance at the last audit: 1 pass, 0 fail; absent when unknown or not applicable.",
		}, []string{"cluster", "instance", "control"}),
		audited: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "audit_last_run_timestamp_seconds",
			Help: "Unix time at which the last compliance audit of a cluster finished.",
		}, []string{"cluster"}),
		series: map[string]map[[2]string]bool{},
	}
	if err := reg.Register(r.status); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if err := reg.Register(r.audited); err != nil {
		reg.Unregister(r.status)
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return r, nil
}

// SetControls replaces a cluster's control series with the samples of an
// audit that finished at at: a control no longer judged (now unknown, an
// instance gone) loses its series.
func (r *ControlRecorder) SetControls(cluster string, samples []ControlSample, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := map[[2]string]bool{}
	for _, s := range samples {
		v := 0.0
		if s.Pass {
			v = 1
		}
		r.status.WithLabelValues(cluster, s.Instance, s.Control).Set(v)
		now[[2]string{s.Instance, s.Control}] = true
	}
	for k := range r.series[cluster] {
		if !now[k] {
			r.status.DeleteLabelValues(cluster, k[0], k[1])
		}
	}
	r.series[cluster] = now
	r.audited.WithLabelValues(cluster).Set(unixSeconds(at))
}

// ForgetCluster deletes every series of a cluster that left the spec.
func (r *ControlRecorder) ForgetCluster(cluster string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.series, cluster)
	deleteMatching(prometheus.Labels{"cluster": cluster}, r.status, r.audited)
}
