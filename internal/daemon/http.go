package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// ClusterStatus is what /status shows of a cluster.
type ClusterStatus struct {
	Cluster string `json:"cluster"`
	Source  string `json:"source"`
	// Leader is the member that led at the last reconcile ("" when none
	// was established; see the topology drift).
	Leader         string          `json:"leader,omitempty"`
	Commit         string          `json:"commit"`
	Signer         string          `json:"signer"`
	LastResult     plan.Verdict    `json:"last_result"`
	LastError      string          `json:"last_error,omitempty"`
	LastRun        time.Time       `json:"last_run"`
	LastSuccess    time.Time       `json:"last_success"`
	Drift          map[string]int  `json:"drift"`
	PendingRestart map[string]bool `json:"pending_restart"`
	// Flapping lists changes (instance, kind, object) the circuit breaker
	// stopped correcting until the next commit.
	Flapping []string `json:"flapping,omitempty"`
	// Held lists changes (instance, kind, object, live sessions) the last
	// reconcile did not apply because they would cut off live clients and
	// the commit does not carry Impact-Accepted: yes (impact.go).
	Held []string `json:"held,omitempty"`
}

// SourceStatus is what /status shows of a source.
type SourceStatus struct {
	Source    string    `json:"source"`
	Commit    string    `json:"commit"`
	Signer    string    `json:"signer"`
	Author    string    `json:"author"`
	LastFetch time.Time `json:"last_fetch"`
	LastError string    `json:"last_error,omitempty"`
	Refused   []string  `json:"refused,omitempty"`
}

// Status is the JSON document at /status.
type Status struct {
	Ready    bool            `json:"ready"`
	Shard    *ShardStatus    `json:"shard,omitempty"` // when sharded (--shard)
	Sources  []SourceStatus  `json:"sources"`
	Clusters []ClusterStatus `json:"clusters"`
}

// maxWebhookBody bounds a webhook request body.
const maxWebhookBody = 1 << 20

func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, why := d.ready(); !ok {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(d.Status())
	})
	for _, forge := range []string{"github", "gitlab", "gitea"} {
		mux.HandleFunc("POST /hooks/"+forge, func(w http.ResponseWriter, r *http.Request) { d.webhook(w, r, forge) })
	}
	if d.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// ready reports whether the configuration is loaded and every source has
// been fetched once.
func (d *Daemon) ready() (bool, string) {
	d.mu.Lock()
	loaded := d.gen != nil
	d.mu.Unlock()
	if !loaded {
		return false, "configuration not loaded\n"
	}
	for _, st := range d.sourceList() {
		if !st.status().fetched {
			return false, "source " + st.name + " not fetched yet\n"
		}
	}
	return true, ""
}

// Status returns a snapshot of what the daemon knows.
func (d *Daemon) Status() Status {
	ok, _ := d.ready()
	out := Status{Ready: ok, Shard: d.shardStatus(), Sources: []SourceStatus{}, Clusters: d.clusters.statuses()}
	for _, st := range d.sourceList() {
		out.Sources = append(out.Sources, st.status().SourceStatus)
	}
	return out
}

// sourceStatus is what /status shows of a source, and whether it was
// fetched once.
type sourceStatus struct {
	SourceStatus
	fetched bool
}

func (st *sourceState) status() sourceStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss := sourceStatus{SourceStatus{Source: st.name, LastFetch: st.lastFetch, LastError: st.lastError}, st.fetched}
	if st.good != nil {
		ss.Commit, ss.Signer, ss.Author = st.good.prov.Commit, st.good.prov.Signer, st.good.prov.Author
	}
	if st.refused != nil {
		for _, c := range st.refused.Commits {
			ss.Refused = append(ss.Refused, c.Commit)
		}
	}
	sort.Strings(ss.Refused)
	return ss
}

// webhook verifies a forge's push notification and kicks the source: a
// GitHub or Gitea HMAC-SHA256 signature of the body, or GitLab's token.
// ?source=NAME picks the source; with one source it may be left out.
func (d *Daemon) webhook(w http.ResponseWriter, r *http.Request, forge string) {
	name := r.URL.Query().Get("source")
	if all := d.sourceList(); name == "" && len(all) == 1 {
		name = all[0].name
	}
	st := d.source(name)
	var secret []byte
	if st != nil {
		st.mu.Lock()
		secret = st.secret
		st.mu.Unlock()
	}
	if st == nil {
		http.Error(w, "unknown source (use ?source=NAME)", http.StatusNotFound)
		return
	}
	if len(secret) == 0 {
		http.Error(w, "webhooks are not configured for this source (webhook_secret_file)", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if !verifyWebhook(forge, r.Header, body, secret) {
		d.log.Warn("webhook refused: bad signature or token", "forge", forge, "source", name, "remote", r.RemoteAddr)
		http.Error(w, "signature or token does not match", http.StatusUnauthorized)
		return
	}
	d.kick(name)
	d.log.Info("webhook accepted: fetching", "forge", forge, "source", name)
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, "fetch queued\n")
}

// verifyWebhook checks a forge's proof that it knows the secret.
func verifyWebhook(forge string, h http.Header, body, secret []byte) bool {
	switch forge {
	case "github":
		return verifyHMAC(strings.TrimPrefix(h.Get("X-Hub-Signature-256"), "sha256="), body, secret)
	case "gitea":
		sig := h.Get("X-Gitea-Signature")
		if sig == "" {
			sig = strings.TrimPrefix(h.Get("X-Hub-Signature-256"), "sha256=")
		}
		return verifyHMAC(sig, body, secret)
	case "gitlab":
		token := h.Get("X-Gitlab-Token")
		return token != "" && subtle.ConstantTimeCompare([]byte(token), secret) == 1
	}
	return false
}

func verifyHMAC(sigHex string, body, secret []byte) bool {
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}
