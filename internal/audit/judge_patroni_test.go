package audit

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Patroni's checks judge their evidence both ways, are unknown when it is
// not collected or Patroni did not answer, and not applicable where
// Patroni does not manage the cluster, even when PostgreSQL itself could
// not be read.
func TestPatroniChecks(t *testing.T) {
	lag := func(n int64) *int64 { return &n }
	healthy := func(edit ...func(*Patroni)) *Patroni {
		p := &Patroni{URL: "http://10.1.0.1:8008", Role: "primary", State: "running", Members: 2, Leader: "pg-x-1", MaxLag: 1 << 20,
			Member: []PatroniMember{{Name: "pg-x-1", Role: "leader", State: "running"}, {Name: "pg-x-2", Role: "replica", State: "streaming", Lag: lag(0)}},
			Probe:  &model.PatroniProbe{Allowed: true, AuthEnforced: true, CredentialsAccepted: true}}
		for _, e := range edit {
			e(p)
		}
		return p
	}
	managed := model.PatroniSpec{Enabled: true, Mode: "default", Port: 8008}
	for _, tc := range []struct {
		name string
		id   string
		spec model.PatroniSpec
		ev   *Evidence
		want Status
		why  string
	}{
		{"not enabled", "patroni-failover", model.PatroniSpec{}, &Evidence{}, StatusNotApplicable, "patroni_enabled: false"},
		{"mode remove", "patroni-rest-auth", model.PatroniSpec{Enabled: true, Mode: "remove"}, &Evidence{}, StatusNotApplicable, "patroni_mode: remove"},
		{"not enabled, PostgreSQL unreachable", "patroni-rest-ssl", model.PatroniSpec{}, &Evidence{Err: "connection refused"}, StatusNotApplicable, "patroni_enabled: false"},
		{"not read", "patroni-failover", managed, &Evidence{}, StatusUnknown, "--patroni"},
		{"unreachable", "patroni-rest-auth", managed, &Evidence{Patroni: &Patroni{URL: "http://10.1.0.1:8008", Err: "GET http://10.1.0.1:8008/cluster: connection refused"}}, StatusUnknown, "connection refused"},
		{"healthy", "patroni-failover", managed, &Evidence{Patroni: healthy()}, StatusPass, "leader pg-x-1, 1 replica(s)"},
		{"healthy, PostgreSQL unreachable", "patroni-failover", managed, &Evidence{Err: "connection refused", Patroni: healthy()}, StatusPass, "fails over"},
		{"paused", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Paused = true })}, StatusFail, "paused"},
		{"no leader", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Leader = ""; p.Member[0].Role = "replica" })}, StatusFail, "leader key"},
		{"replica stopped", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Member[1].State, p.Member[1].Lag = "stopped", nil })}, StatusFail, "no healthy replica"},
		{"replica too far behind", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Member[1].Lag = lag(2 << 20) })}, StatusFail, "no healthy replica"},
		{"replica nofailover", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Member[1].NoFailover = true })}, StatusFail, "no healthy replica"},
		{"sync standby", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Member[1].Role, p.Member[1].Lag = "sync_standby", nil })}, StatusPass, "fails over"},
		{"single member", "patroni-failover", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Member = p.Member[:1]; p.Members = 1 })}, StatusFail, "no healthy replica"},
		{"auth enforced", "patroni-rest-auth", managed, &Evidence{Patroni: healthy()}, StatusPass, "requires credentials"},
		{"auth enforced, credentials wrong", "patroni-rest-auth", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Probe.CredentialsAccepted = false })}, StatusPass, "requires credentials"},
		{"no auth", "patroni-rest-auth", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Probe = &model.PatroniProbe{Allowed: true, CredentialsAccepted: true} })}, StatusFail, "without credentials"},
		{"allowlist refuses", "patroni-rest-auth", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Probe = &model.PatroniProbe{} })}, StatusUnknown, "allowlist"},
		{"probe failed", "patroni-rest-auth", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.Probe, p.ProbeErr = nil, "PATCH …: 500" })}, StatusUnknown, "500"},
		{"http", "patroni-rest-ssl", managed, &Evidence{Patroni: healthy()}, StatusFail, "plain http"},
		{"https", "patroni-rest-ssl", managed, &Evidence{Patroni: healthy(func(p *Patroni) { p.URL, p.TLS = "https://10.1.0.1:8008", true })}, StatusPass, "https"},
		{"https asked, http answered", "patroni-rest-ssl", model.PatroniSpec{Enabled: true, Port: 8008, SSL: true},
			&Evidence{Patroni: &Patroni{URL: "https://10.1.0.1:8008", TLS: true, PlainHTTP: true, Err: "server gave HTTP response to HTTPS client"}}, StatusFail, "answers without TLS"},
	} {
		s := subject(tc.ev)
		s.Cluster.Patroni = tc.spec
		if v := judgeID(t, tc.id, s); v.Status != tc.want || !strings.Contains(v.Why, tc.why) {
			t.Errorf("%s: %s = %s (%s), want %s (%q)", tc.name, tc.id, v.Status, v.Why, tc.want, tc.why)
		}
	}
}
