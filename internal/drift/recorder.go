package drift

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "pgreconciler"

// Recorder records the reconciler's metrics on the registry it was
// created with. Its methods are safe for concurrent use.
type Recorder struct {
	driftItems     *prometheus.GaugeVec
	reconciles     *prometheus.CounterVec
	durations      *prometheus.HistogramVec
	lastSuccess    *prometheus.GaugeVec
	applied        *prometheus.CounterVec
	pendingRestart *prometheus.GaugeVec
	instanceUp     *prometheus.GaugeVec

	sourceInfo     *prometheus.GaugeVec
	sourceFetched  *prometheus.GaugeVec
	verifyFailures *prometheus.CounterVec

	mu       sync.Mutex
	clusters map[string]*clusterSeries
	sources  map[string]prometheus.Labels // source → labels of its one pgreconciler_source_info series
}

// clusterSeries remembers which per-instance series a cluster has, so that
// the series of an instance that left the cluster can be deleted.
type clusterSeries struct {
	instances map[string]bool    // instances with drift, up or pending-restart series
	drift     map[[2]string]bool // (instance, class) of the drift series last set
}

// NewRecorder creates the reconciler's collectors and registers them on reg.
func NewRecorder(reg prometheus.Registerer) (*Recorder, error) {
	r := &Recorder{
		driftItems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "drift_items",
			Help: "Objects whose live state differs from the spec, by drift class (user, hba, parameter, database, privilege, pgbouncer), at the last observation.",
		}, []string{"cluster", "instance", "kind"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reconcile_total",
			Help: "Reconciles of a cluster by result (success, failure, busy, refused).",
		}, []string{"cluster", "result"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "reconcile_duration_seconds",
			Help:    "Wall time of one reconcile of a cluster: inspect, plan and apply.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"cluster"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "last_success_timestamp_seconds",
			Help: "Unix time at which the last successful reconcile of a cluster finished.",
		}, []string{"cluster"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "applied_changes_total",
			Help: "Changes applied to a cluster, by object kind and action.",
		}, []string{"cluster", "kind", "action"}),
		pendingRestart: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "pending_restart",
			Help: "Parameters of an instance that are set but wait for a restart.",
		}, []string{"cluster", "instance"}),
		instanceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "instance_up",
			Help: "Whether the last connection to an instance succeeded (1) or not (0).",
		}, []string{"cluster", "instance"}),
		sourceInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "source_info",
			Help: "The verified revision of a source and who signed it; one series per source, value 1.",
		}, []string{"source", "revision", "signer"}),
		sourceFetched: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "source_last_fetch_timestamp_seconds",
			Help: "Unix time of the last successful fetch of a source.",
		}, []string{"source"}),
		verifyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "verification_failures_total",
			Help: "Commits of a source refused by verification (signature, history, spec tree), by reason.",
		}, []string{"source", "reason"}),
		clusters: map[string]*clusterSeries{},
		sources:  map[string]prometheus.Labels{},
	}
	var done []prometheus.Collector
	for _, c := range r.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		done = append(done, c)
	}
	return r, nil
}

func (r *Recorder) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.driftItems, r.reconciles, r.durations, r.lastSuccess, r.applied,
		r.pendingRestart, r.instanceUp, r.sourceInfo, r.sourceFetched, r.verifyFailures}
}

// NewRegistry returns a fresh registry holding the Go and process
// collectors, for the daemon to pass to NewRecorder and serve.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// unixSeconds is t as fractional Unix seconds, the base unit of timestamps.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
