package patroni_test

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// GET /cluster read by the client agrees with patronictl list, an
// independent reader, and with the harness.
func TestReadCluster(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	view, err := cl.View(ctx, bases(c))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Patronictl(ctx, "list", c.Name, "-f", "json")
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		Member, Host, Role, State string
		TL                        int
	}
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("patronictl list: %v\n%s", err, out)
	}
	if len(view.Members) != 3 || len(listed) != 3 {
		t.Fatalf("client sees %d members, patronictl %d", len(view.Members), len(listed))
	}
	for i, m := range view.Members {
		l := listed[i]
		hm := c.Member(m.Name)
		if hm == nil || l.Member != m.Name {
			t.Fatalf("member %d: client %q, patronictl %q", i, m.Name, l.Member)
		}
		if m.Role.Leads() != (l.Role == "Leader") || !m.State.Running() || m.Timeline != l.TL {
			t.Errorf("%s: client role %s state %s tl %d; patronictl %s %s %d", m.Name, m.Role, m.State, m.Timeline, l.Role, l.State, l.TL)
		}
		if m.Host != hm.Addr || m.Port != hm.Port || !strings.Contains(m.APIURL, net.JoinHostPort(hm.Addr, strconv.Itoa(hm.APIPort))) {
			t.Errorf("%s: host %s port %d api %s", m.Name, m.Host, m.Port, m.APIURL)
		}
		if m.Role.Leads() != (m.LagBytes == nil) {
			t.Errorf("%s (%s): lag %v", m.Name, m.Role, m.LagBytes)
		}
		if m.PendingRestart || m.ScheduledRestart != nil {
			t.Errorf("%s: pending %v scheduled %v on a fresh cluster", m.Name, m.PendingRestart, m.ScheduledRestart)
		}
	}
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := view.Leader(); l == nil || l.Name != leader.Name() {
		t.Fatalf("client's leader %v, harness's %s", l, leader.Name())
	}
}

// GET /patroni on each member: its role from its own catalog, the same
// system identifier everywhere, Patroni's version and scope.
func TestReadStatus(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sysid := ""
	for _, m := range c.Members() {
		st, err := cl.Status(ctx, m.APIURL())
		if err != nil {
			t.Fatal(err)
		}
		wantRole := "replica"
		if m == leader {
			wantRole = "primary" // Patroni 3.0.2 says "master"
		}
		if st.Role != wantRole || !st.State.Running() || st.ServerVersion/10000 != 15 || st.Scope != c.Name ||
			st.PatroniVersion != "3.0.2" || st.PostmasterStartTime.IsZero() || st.Timeline == 0 || st.ClusterUnlocked {
			t.Errorf("%s: %+v", m.Name(), st)
		}
		if sysid == "" {
			sysid = st.SystemIdentifier
		} else if st.SystemIdentifier != sysid {
			t.Errorf("%s: system identifier %s, want %s", m.Name(), st.SystemIdentifier, sysid)
		}
	}
}

// GET /config: the DCS configuration as bootstrapped, and the parameters
// Patroni passes on the command line really come from it.
func TestReadConfig(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	cfg, err := cl.Config(ctx, c.Members()[1].APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TTL != 20 || cfg.LoopWait != 2 || cfg.PrimaryStartTimeout == nil || *cfg.PrimaryStartTimeout != 0 ||
		!cfg.UsePgRewind || !cfg.UseSlots || !cfg.FailsafeMode || cfg.SynchronousMode {
		t.Errorf("config %+v", cfg)
	}
	for name, want := range map[string]string{"max_connections": "100", "wal_level": "logical", "track_commit_timestamp": "on", "shared_buffers": "64MB"} {
		if v, ok := cfg.Parameter(name); !ok || v != want {
			t.Errorf("DCS %s = %q (%v), want %s", name, v, ok, want)
		}
	}
	for _, m := range c.Members() {
		conn, err := m.Admin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var setting, source string
		err = conn.QueryRow(ctx, "SELECT setting, source FROM pg_settings WHERE name = 'max_connections'").Scan(&setting, &source)
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if setting != "100" || source != "command line" {
			t.Errorf("%s: max_connections %s from %s, want 100 from the command line", m.Name(), setting, source)
		}
	}
}

// Topology on the live cluster: Patroni's leader confirmed by the catalog,
// every member running, pg_role reported only if a test moved the leader.
func TestTopologyLive(t *testing.T) {
	c := cluster(t)
	ctx := ctx(t)
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	topo := liveTopology(ctx, c, client(t, c))
	if topo.Leader != leader.Name() || topo.Source != model.SourcePatroni || len(topo.Running()) != 3 {
		t.Fatalf("topology %+v", topo)
	}
	var kinds []string
	for _, f := range topo.Findings {
		kinds = append(kinds, string(f.Kind)+"@"+f.Instance)
	}
	want := 0
	if leader.Seq != 1 {
		want = 2 // the inventory's primary and the member that leads instead
	}
	if len(kinds) != want {
		t.Fatalf("findings %v with %s leading", kinds, leader.Name())
	}
	for _, f := range topo.Findings {
		if f.Kind != model.FindingInventoryRole {
			t.Errorf("finding %+v", f)
		}
	}
}
