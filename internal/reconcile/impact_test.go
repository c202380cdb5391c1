package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// impactVars declares a business user; rules and attributes are spliced in.
func impactVars(user, rules string) string {
	return fmt.Sprintf(`
pg_users: [{name: "dbuser_imp", password: "Imp.Secret.2026", roles: ["dbrole_readwrite"]%s}]
pg_default_privileges: []
pg_hba_rules: [%s]
`, user, rules)
}

// holdImpactClients converges the spec and opens the live clients of the
// impact tests: dbuser_imp from 127.0.0.2 without TLS (twice) and from
// 127.0.0.3 with TLS, to the primary.
func holdImpactClients(t *testing.T) {
	t.Helper()
	cluster.ResetForReconciler(t)
	applyAll(t, loadSpec(t, cluster.PigstySpec(impactVars("", ""))))
	o := testenv.ClientOptions{User: "dbuser_imp", Password: "Imp.Secret.2026", Database: "postgres", Application: "orders"}
	plain, tls := o, o
	plain.From = "127.0.0.2"
	tls.From, tls.SSL = "127.0.0.3", true
	cluster.Primary.HoldClient(t, plain)
	cluster.Primary.HoldClient(t, plain)
	cluster.Primary.HoldClient(t, tls)
}

func impactsOf(cp plan.ClusterPlan) []plan.Impact { return cp.Impacts() }

func addressesOf(im plan.Impact) []string {
	var out []string
	for _, c := range im.Clients {
		out = append(out, c.Addresses...)
	}
	slices.Sort(out)
	return out
}

// TestImpactHBA: with real clients held open over TCP with and without
// SSL from two loopback addresses, a new rule that rejects one address is
// reported with that client (its sessions, network, the lines deciding
// today and after) and cuts it off; the other client is not listed. A rule
// that rejects an address no one connects from changes pg_hba.conf but
// reports no impact.
func TestImpactHBA(t *testing.T) {
	holdImpactClients(t)
	reject := func(addr string) string {
		return fmt.Sprintf(`{user: "dbuser_imp", db: "all", addr: %q, auth: "deny", title: "no imp", order: 10}`, addr)
	}
	cp, _ := planOf(t, loadSpec(t, cluster.PigstySpec(impactVars("", reject("127.0.0.2/32")))))
	ims := impactsOf(cp)
	if len(ims) != 1 {
		t.Fatalf("impacts %+v\n%s", ims, describe(driftOf(cp)))
	}
	im := ims[0]
	if im.Kind != plan.ImpactHBARejected || !im.CutsOff || im.Instance != cluster.Primary.Name() || im.Sessions != 2 || im.Groups != 1 {
		t.Errorf("impact %+v", im)
	}
	c := im.Clients[0]
	if c.User != "dbuser_imp" || c.Network != "127.0.0.0/24" || c.SSL || !slices.Equal(addressesOf(im), []string{"127.0.0.2"}) ||
		!strings.Contains(c.After, "reject") || !strings.Contains(c.Before, "scram-sha-256") {
		t.Errorf("client %+v", c)
	}
	hbaChange := slices.IndexFunc(cp.Changes, func(ch plan.Change) bool { return ch.Kind == plan.KindHBA })
	if hbaChange < 0 || !cp.Changes[hbaChange].CutsOff() {
		t.Errorf("the impact is not on the pg_hba.conf change")
	}

	// TLS required of dbuser_imp: the client still connecting without it
	// is cut off, the one with it is not.
	sslOnly := `{user: "dbuser_imp", db: "all", addr: "127.0.0.0/8", auth: "ssl", title: "imp over tls", order: 10},
		{user: "dbuser_imp", db: "all", addr: "127.0.0.0/8", auth: "deny", title: "imp without tls", order: 11}`
	cp, _ = planOf(t, loadSpec(t, cluster.PigstySpec(impactVars("", sslOnly))))
	if ims := impactsOf(cp); len(ims) != 1 || ims[0].Kind != plan.ImpactHBARejected || ims[0].Sessions != 2 ||
		!slices.Equal(addressesOf(ims[0]), []string{"127.0.0.2"}) || ims[0].Clients[0].SSL {
		t.Errorf("TLS required: impacts %+v", ims)
	}

	cp, _ = planOf(t, loadSpec(t, cluster.PigstySpec(impactVars("", reject("127.0.0.9/32")))))
	if !slices.ContainsFunc(cp.Changes, func(ch plan.Change) bool { return ch.Kind == plan.KindHBA }) {
		t.Fatal("no pg_hba.conf change planned for a new rule")
	}
	if ims := impactsOf(cp); len(ims) != 0 {
		t.Errorf("a rule that hits no one: impacts %+v", ims)
	}
}

// TestImpactNoLogin: NOLOGIN on a role with three open sessions is
// reported with them and cuts them off; so is a connection limit below
// them, and a drop of the role terminates them.
func TestImpactNoLogin(t *testing.T) {
	holdImpactClients(t)
	cp, _ := planOf(t, loadSpec(t, cluster.PigstySpec(impactVars(`, login: false, connlimit: 1`, ""))))
	kinds := map[plan.ImpactKind]plan.Impact{}
	for _, im := range impactsOf(cp) {
		kinds[im.Kind] = im
	}
	for _, k := range []plan.ImpactKind{plan.ImpactNoLogin, plan.ImpactConnLimit} {
		im, ok := kinds[k]
		if !ok || !im.CutsOff || im.Sessions != 3 || !slices.Equal(addressesOf(im), []string{"127.0.0.2", "127.0.0.3"}) {
			t.Errorf("%s: %+v (all: %+v)", k, im, impactsOf(cp))
		}
	}
	if len(kinds) != 2 {
		t.Errorf("impacts %+v", impactsOf(cp))
	}
	cp, _ = planOf(t, loadSpec(t, cluster.PigstySpec(impactVars(`, state: "absent"`, ""))))
	ims := impactsOf(cp)
	if len(ims) != 1 || ims[0].Kind != plan.ImpactDropped || !ims[0].CutsOff || ims[0].Sessions != 3 {
		t.Errorf("drop: impacts %+v", ims)
	}
}
