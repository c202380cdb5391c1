package drift

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a source refuses a commit, the reason label of
// pgreconciler_verification_failures_total.
const (
	ReasonUnsigned     = "unsigned"      // the commit carries no signature
	ReasonUntrusted    = "untrusted"     // signed by a key that is not trusted
	ReasonBadSignature = "bad_signature" // the signature does not verify
	ReasonExpired      = "expired"       // the key was expired, revoked or outside its validity
	ReasonRewind       = "rewind"        // the target does not descend from the last applied commit
	ReasonHistory      = "history"       // a commit between the last applied one and the target fails
	ReasonTree         = "tree"          // the spec tree breaks the tree rules (symlink, size …)
	ReasonInvalid      = "invalid"       // signed, but the spec is invalid (schema, checks, policy)
	ReasonOther        = "other"         // anything else
)

// reasons are the values of the reason label.
func reasons() []string {
	return []string{ReasonUnsigned, ReasonUntrusted, ReasonBadSignature, ReasonExpired,
		ReasonRewind, ReasonHistory, ReasonTree, ReasonInvalid, ReasonOther}
}

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

// VerificationFailed counts a refused commit of a source. reason is one of
// the Reason constants; any other value is counted as ReasonOther.
func (r *Recorder) VerificationFailed(source, reason string) {
	if !slices.Contains(reasons(), reason) {
		reason = ReasonOther
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.source(source)
	r.verifyFailures.WithLabelValues(source, reason).Inc()
}

// ForgetSource deletes every series of a source that left the configuration.
func (r *Recorder) ForgetSource(source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sources, source)
	match := prometheus.Labels{"source": source}
	r.sourceInfo.DeletePartialMatch(match)
	r.sourceFetched.DeletePartialMatch(match)
	r.verifyFailures.DeletePartialMatch(match)
}

// source zero-fills the verification failure counters of a source on first
// sight, so that increase() sees its first failure. r.mu must be held.
func (r *Recorder) source(name string) {
	if _, ok := r.sources[name]; ok {
		return
	}
	r.sources[name] = nil
	for _, reason := range reasons() {
		r.verifyFailures.WithLabelValues(name, reason)
	}
}
