package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// hbaFixture is the fixture with pg_hba.conf managed: live, app may
// connect from 10.1.0.0/16 with a password, over TLS or not; the spec's
// rules are raw lines a test chooses. The clients are open sessions.
func hbaFixture(want []string, clients ...model.ClientGroup) (*model.Cluster, map[string]*model.InstanceState) {
	c, live := fixture()
	st := live["pg-x-1"]
	st.HBA = &model.LiveHBA{Path: "/pg/data/pg_hba.conf", Text: "local all postgres peer\n" +
		"host all +dbrole_readonly 10.1.0.0/16 scram-sha-256\n" +
		"host all dbuser_dba 10.0.0.0/8 scram-sha-256\n"}
	rules := append(append([]string{"local all postgres peer"}, want...), "host all dbuser_dba 10.0.0.0/8 scram-sha-256")
	c.Instances[0].HBA = []model.HBARule{{Rules: rules, Title: "test"}}
	st.Session.ClientAddr = "10.0.0.9"
	st.Clients = clients
	st.ClientGroups = len(clients)
	return c, live
}

func appFrom(addr string, ssl bool, n int) model.ClientGroup {
	return model.ClientGroup{User: "app", Database: "postgres", ClientAddr: addr, SSL: ssl, ApplicationName: "orders", Sessions: n}
}

func impactsOfPlan(p plan.ClusterPlan) []plan.Impact { return p.Impacts() }

// TestImpactHBASSL: a hostssl rule in place of a host rule rejects the
// client still connecting without TLS, not the one with it; the
// reconciler's own session and the dbsu over the socket are unhurt.
func TestImpactHBASSL(t *testing.T) {
	c, live := hbaFixture([]string{"hostssl all +dbrole_readonly 10.1.0.0/16 scram-sha-256"},
		appFrom("10.1.2.3", false, 4), appFrom("10.1.2.4", true, 2), model.ClientGroup{User: "postgres", Database: "postgres", Sessions: 1})
	ims := impactsOfPlan(Cluster(c, live))
	if len(ims) != 1 {
		t.Fatalf("impacts %+v", ims)
	}
	im := ims[0]
	if im.Kind != plan.ImpactHBARejected || !im.CutsOff || im.Sessions != 4 || len(im.Clients) != 1 ||
		im.Clients[0].Addresses[0] != "10.1.2.3" || im.Clients[0].SSL || im.Clients[0].Network != "10.1.2.0/24" ||
		im.Clients[0].After != "no line matches" || !strings.HasPrefix(im.Clients[0].Before, "line 2: host all +dbrole_readonly") {
		t.Errorf("impact %+v", im)
	}
}

// TestImpactHBAMethod: a client that would have to present a certificate
// instead of a password is listed and cuts off; one moved to trust is
// listed but does not.
func TestImpactHBAMethod(t *testing.T) {
	for _, tc := range []struct {
		method string
		cuts   bool
	}{{"cert", true}, {"trust", false}, {"scram-sha-256", false}} {
		c, live := hbaFixture([]string{"hostssl all +dbrole_readonly 10.1.0.0/16 " + tc.method}, appFrom("10.1.2.3", true, 1))
		ims := impactsOfPlan(Cluster(c, live))
		if tc.method == "scram-sha-256" { // host to hostssl for a TLS client: nothing changes for it
			if len(ims) != 0 {
				t.Errorf("same method: impacts %+v", ims)
			}
			continue
		}
		if len(ims) != 1 || ims[0].Kind != plan.ImpactHBAMethod || ims[0].CutsOff != tc.cuts {
			t.Errorf("%s: impacts %+v", tc.method, ims)
		}
	}
}

// TestImpactRevokedGroup: an unchanged pg_hba.conf whose +group line a
// client matches only through a membership the plan revokes rejects it:
// the impact is on the revoke, and the revoke's own impact lists the
// sessions too.
func TestImpactRevokedGroup(t *testing.T) {
	c, live := hbaFixture([]string{"host all +dbrole_readonly 10.1.0.0/16 scram-sha-256"}, appFrom("10.1.2.3", false, 3))
	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Revoke: true}}
	p := Cluster(c, live)
	revokes := changesOf(p, plan.KindMembership)
	if len(revokes) != 1 || len(changesOf(p, plan.KindHBA)) != 0 {
		t.Fatalf("plan %+v", p.Changes)
	}
	kinds := map[plan.ImpactKind]bool{}
	for _, im := range revokes[0].Impact {
		kinds[im.Kind] = true
	}
	if !kinds[plan.ImpactHBARejected] || !kinds[plan.ImpactRevoked] || !revokes[0].CutsOff() {
		t.Errorf("revoke impacts %+v", revokes[0].Impact)
	}
}

// TestImpactCapsAndHidden: an impact lists at most MaxImpactClients
// groups and keeps the totals; sessions whose address was not visible are
// counted, not judged; no change means no impact.
func TestImpactCapsAndHidden(t *testing.T) {
	var clients []model.ClientGroup
	for i := range 30 {
		clients = append(clients, appFrom(fmt.Sprintf("10.1.%d.1", i), false, 1))
	}
	clients = append(clients, model.ClientGroup{User: "app", Database: "postgres", Hidden: true, Sessions: 5})
	c, live := hbaFixture([]string{"host all +dbrole_readonly 10.1.0.0/16 reject"}, clients...)
	ims := impactsOfPlan(Cluster(c, live))
	if len(ims) != 1 || len(ims[0].Clients) != plan.MaxImpactClients || ims[0].Groups != 30 || ims[0].Sessions != 30 || ims[0].Hidden != 5 {
		t.Fatalf("impacts %+v", ims)
	}
	c, live = hbaFixture([]string{"host all +dbrole_readonly 10.1.0.0/16 scram-sha-256"}, clients...)
	if p := Cluster(c, live); len(impactsOfPlan(p)) != 0 {
		t.Errorf("in sync: impacts %+v (changes %+v)", impactsOfPlan(p), p.Changes)
	}
}

// TestImpactRoles: NOLOGIN, a past expiry and a connection limit below
// the open sessions cut them off; a role without sessions has no impact.
func TestImpactRoles(t *testing.T) {
	c, live := fixture()
	live["pg-x-1"].Clients = []model.ClientGroup{appFrom("10.1.2.3", false, 6)}
	app := c.Role("app")
	app.Login, app.ConnLimit = ptr(false), ptr(2)
	app.ExpireAt = "2026-01-01"
	ims := impactsOfPlan(Cluster(c, live))
	kinds := map[plan.ImpactKind]plan.Impact{}
	for _, im := range ims {
		kinds[im.Kind] = im
	}
	for _, k := range []plan.ImpactKind{plan.ImpactNoLogin, plan.ImpactExpired, plan.ImpactConnLimit} {
		if im, ok := kinds[k]; !ok || !im.CutsOff || im.Sessions != 6 {
			t.Errorf("%s: %+v in %+v", k, im, ims)
		}
	}
	live["pg-x-1"].Clients = nil
	if ims := impactsOfPlan(Cluster(c, live)); len(ims) != 0 {
		t.Errorf("no sessions: impacts %+v", ims)
	}
}

// TestImpactLogged: a client the server logged but that is not connected
// now (a nightly job) is judged too and counted as logged connections; one
// logged and connected is counted once, as sessions; a connection limit
// counts only the sessions open.
func TestImpactLogged(t *testing.T) {
	c, live := hbaFixture([]string{"host all +dbrole_readonly 10.1.0.0/16 reject"}, appFrom("10.1.2.3", false, 1))
	live["pg-x-1"].Logged = []model.ClientGroup{appFrom("10.1.2.3", false, 7), appFrom("10.1.9.9", true, 4)}
	ims := impactsOfPlan(Cluster(c, live))
	if len(ims) != 1 || ims[0].Sessions != 1 || ims[0].Logged != 4 || !ims[0].CutsOff || !strings.Contains(ims[0].Summary, "4 logged connections") {
		t.Fatalf("impacts %+v", ims)
	}
	c, live = fixture()
	live["pg-x-1"].Clients = []model.ClientGroup{appFrom("10.1.2.3", false, 2)}
	live["pg-x-1"].Logged = []model.ClientGroup{appFrom("10.1.9.9", false, 9)}
	c.Role("app").ConnLimit = ptr(1)
	ims = impactsOfPlan(Cluster(c, live))
	if len(ims) != 1 || ims[0].Kind != plan.ImpactConnLimit || ims[0].Sessions != 2 || ims[0].Logged != 0 {
		t.Errorf("connlimit: impacts %+v", ims)
	}
}
