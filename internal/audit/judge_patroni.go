package audit

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// patroni returns the Patroni evidence of the subject, or the verdict when
// there is none to judge: not applicable where Patroni does not manage the
// cluster, unknown where it was not read or did not answer.
func (s *Subject) patroni() (*Patroni, *Verdict) {
	p := s.Evidence.Patroni
	var v Verdict
	switch spec := s.Cluster.Patroni; {
	case !spec.Enabled:
		v = notApplicable("Patroni does not manage this cluster (patroni_enabled: false)")
	case !spec.Managed():
		v = notApplicable("Patroni does not manage this cluster (patroni_mode: %s)", spec.Mode)
	case p == nil:
		v = unknown("Patroni was not read: the audit was run without Patroni access (reconciler audit --patroni; the daemon's patroni.enabled)")
	case p.Err != "":
		v = unknown("Patroni at %s: %s", p.URL, p.Err)
	default:
		return p, nil
	}
	return nil, &v
}

// judgePatroniFailover: Patroni fails over on its own (MLPS availability,
// SOC 2 CC9.1 and A1.2): not paused, a member holds the leader key, and at
// least one other member could be promoted: running, not tagged
// nofailover, and no further behind than maximum_lag_on_failover (a
// synchronous standby always can). The view is the instance's own
// Patroni's (GET /cluster on it).
func judgePatroniFailover(s *Subject) Verdict {
	p, uv := s.patroni()
	if uv != nil {
		return *uv
	}
	var v verdict
	v.fact("rest api", "%s", p.URL)
	if p.Role != "" {
		v.fact("role", "%s (%s)", p.Role, p.State)
	}
	if p.Paused {
		v.fail("paused", "true", "Patroni is paused (maintenance mode, patronictl pause): no automatic failover")
	}
	if p.Leader == "" {
		v.fail("leader", "none", "no member holds Patroni's leader key")
	} else {
		v.fact("leader", "%s", p.Leader)
	}
	healthy := 0
	for _, m := range p.Member {
		if m.Name == p.Leader {
			continue
		}
		lag := "lag unknown"
		if m.Lag != nil {
			lag = fmt.Sprintf("lag %d bytes", *m.Lag)
		}
		val := fmt.Sprintf("%s, %s, %s", m.Role, m.State, lag)
		switch running := m.State == "running" || m.State == "streaming"; {
		case !running:
			v.fact("member "+m.Name, "%s (not running: cannot be promoted)", val)
		case m.NoFailover:
			v.fact("member "+m.Name, "%s, nofailover (never promoted)", val)
		case m.Role == "sync_standby" || m.Role == "quorum_standby":
			healthy++
			v.fact("member "+m.Name, "%s", val)
		case m.Lag == nil || *m.Lag > p.MaxLag:
			v.fact("member "+m.Name, "%s (beyond maximum_lag_on_failover %d: not promoted)", val, p.MaxLag)
		default:
			healthy++
			v.fact("member "+m.Name, "%s", val)
		}
	}
	if healthy == 0 {
		v.fail("replicas", fmt.Sprintf("0 of %d can be promoted", len(p.Member)-1), "Patroni has no healthy replica to fail over to")
	}
	v.fact("synchronous_mode", "%v", p.SyncMode)
	v.fact("failsafe_mode", "%v", p.Failsafe)
	if p.FailsafeActive {
		v.fact("failsafe_active", "true (the leader runs without the DCS)")
	}
	for _, what := range []string{"status", "config"} {
		if why, ok := p.Unread[what]; ok {
			v.fact(what, "not read: %s", why)
		}
	}
	return v.done(fmt.Sprintf("Patroni fails over automatically: leader %s, %d replica(s) that can be promoted", p.Leader, healthy))
}

// judgePatroniRESTAuth: the REST API's unsafe endpoints (restart, reload,
// switchover, failover, PATCH /config) refuse requests without credentials
// (Pigsty's restapi.authentication), and the allowlist lets the admin node
// in (patroni_allowlist: admin_ip, infra and the cluster). A probe that
// changes nothing decides it (package patroni's Probe).
func judgePatroniRESTAuth(s *Subject) Verdict {
	p, uv := s.patroni()
	if uv != nil {
		return *uv
	}
	if p.Probe == nil {
		return unknown("the probe of Patroni's unsafe endpoints at %s failed: %s", p.URL, p.ProbeErr)
	}
	pr := p.Probe
	var v verdict
	v.fact("rest api", "%s", p.URL)
	if !pr.Allowed {
		v.fact("allowlist", "refuses the reconciler's address (403)")
		return Verdict{Status: StatusUnknown, Why: "the allowlist of Patroni at " + p.URL + " refuses the reconciler's address, so whether it enforces authentication is not seen from here (Pigsty's patroni_allowlist includes admin_ip)", Evidence: v.facts}
	}
	v.fact("allowlist", "lets the reconciler's address in")
	if !pr.AuthEnforced {
		v.fail("authentication", "not enforced", "Patroni at "+p.URL+" accepts unsafe requests (restart, failover, PATCH /config) without credentials")
		return v.done("")
	}
	v.fact("authentication", "enforced: a request without credentials is refused (401)")
	if pr.CredentialsAccepted {
		v.fact("credentials", "the inventory's patroni_username/patroni_password are accepted")
	} else {
		v.fact("credentials", "the inventory's patroni_username/patroni_password are refused (401): reloads and restarts through Patroni will fail")
	}
	return v.done("Patroni's REST API requires credentials for its unsafe endpoints")
}

// judgePatroniRESTSSL: the REST API is served over https (Pigsty's
// patroni_ssl_enabled, false by default), verified against the CA: the
// REST password and the cluster's state do not travel in clear.
func judgePatroniRESTSSL(s *Subject) Verdict {
	if p := s.Evidence.Patroni; p != nil && p.PlainHTTP {
		var v verdict
		v.fail("rest api", p.URL, "patroni_ssl_enabled asks for https, but Patroni at "+p.URL+" answers without TLS")
		return v.done("")
	}
	p, uv := s.patroni()
	if uv != nil {
		return *uv
	}
	var v verdict
	if !p.TLS {
		v.fail("rest api", p.URL, "Patroni's REST API is served over plain http (patroni_ssl_enabled: false): its credentials travel in clear")
		return v.done("")
	}
	v.fact("rest api", "%s", p.URL)
	v.fact("certificate", "verified by the TLS handshake")
	return v.done("Patroni's REST API is served over https")
}

// plainHTTP reports whether a request error says the https request was
// answered without TLS (crypto/tls: the first record is no handshake; Go's
// HTTP client when that record is an HTTP response).
func plainHTTP(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}
