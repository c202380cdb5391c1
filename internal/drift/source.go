package drift

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// SetSource records the verified revision of a source and its signer. The
// source keeps exactly one pgreconciler_source_info series: the previous
// one is deleted when the revision or signer changes.
func (r *Recorder) SetSource(source, revision, signer string) {
	labels := prometheus.Labels{"source": source, "revision": revision, "signer": signer}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.source(source)
	if old := r.sources[source]; old != nil {
		r.sourceInfo.Delete(old)
	}
	r.sources[source] = labels
	r.sourceInfo.With(labels).Set(1)
}

// SourceFetched records a successful fetch of a source at at.
func (r *Recorder) SourceFetched(source string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.source(source)
	r.sourceFetched.WithLabelValues(source).Set(unixSeconds(at))
}

// VerificationFailed counts a refused commit of a source by the kind of
// refusal, the reason label (model.RefusalKinds); any other value is
// counted as model.RefusalOther.
func (r *Recorder) VerificationFailed(source string, kind model.RefusalKind) {
	if !slices.Contains(model.RefusalKinds(), kind) {
		kind = model.RefusalOther
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.source(source)
	r.verifyFailures.WithLabelValues(source, string(kind)).Inc()
}

// ForgetSource deletes every series of a source that left the configuration.
func (r *Recorder) ForgetSource(source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sources, source)
	deleteMatching(prometheus.Labels{"source": source}, r.sourceInfo, r.sourceFetched, r.verifyFailures)
}

// source zero-fills the verification failure counters of a source on first
// sight, so that increase() sees its first failure. r.mu must be held.
func (r *Recorder) source(name string) {
	if _, ok := r.sources[name]; ok {
		return
	}
	r.sources[name] = nil
	for _, kind := range model.RefusalKinds() {
		r.verifyFailures.WithLabelValues(name, string(kind))
	}
}
