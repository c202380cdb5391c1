package audit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// patroniShared is the etcd and two-member Patroni cluster (REST on http,
// Pigsty's default) Patroni's checks are judged on; it is slow to start,
// so it starts on first use and serves every subtest.
var patroniShared struct {
	once sync.Once
	c    *patronienv.Cluster
	err  error
}

func closePatroni() error {
	if patroniShared.c == nil {
		return nil
	}
	return patroniShared.c.Close()
}

func patroniCluster(t *testing.T) *patronienv.Cluster {
	t.Helper()
	patroniShared.once.Do(func() {
		begin := time.Now()
		patroniShared.c, patroniShared.err = patronienv.Start(patronienv.Options{Name: "pg-auditha", Members: 2, BaseIP: 141})
		if patroniShared.err == nil {
			fmt.Fprintf(os.Stderr, "Patroni cluster pg-auditha (2 members) started in %s\n", time.Since(begin).Round(time.Millisecond))
		}
	})
	if patroniShared.err != nil {
		t.Fatalf("start Patroni cluster: %v", patroniShared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			patroniShared.c.LogTails(t)
		}
	})
	return patroniShared.c
}

// patroniSpec is the cluster as a Pigsty inventory declares it: the REST
// API on patroni_port with patroni_username/patroni_password.
func patroniSpec(c *patronienv.Cluster) *model.Cluster {
	cl := &model.Cluster{Name: c.Name, Patroni: model.PatroniSpec{Enabled: true, Mode: "default", Port: c.APIPort,
		Username: c.APIUser, Password: model.NewSecret(c.APIPassword)}}
	for _, m := range c.Members() {
		role := model.RoleReplica
		if m.Seq == 1 {
			role = model.RolePrimary
		}
		cl.Instances = append(cl.Instances, &model.Instance{Cluster: c.Name, Seq: m.Seq, IP: m.Addr, Port: m.Port, Role: role})
	}
	return cl
}

// Patroni's checks judged from a live etcd + Patroni cluster through
// PatroniFrom, both ways: healthy, then the replica stopped, then paused
// (patronictl pause) for failover; authentication enforced with the inventory's credentials and
// with wrong ones; http where patroni_ssl_enabled asks for https; a REST
// API that does not answer; and not applicable without Patroni. The
// evidence never holds the REST password.
func TestPatroniOnLiveCluster(t *testing.T) {
	c := patroniCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	hook := PatroniFrom(PatroniAccess{CAFile: c.CACertFile, Timeout: 5 * time.Second})
	members := map[string]*patronienv.Member{}
	for _, m := range c.Members() {
		members[m.Name()] = m
	}
	col := &Collector{
		Connect: func(ctx context.Context, in *model.Instance, _ string) (*pgx.Conn, error) {
			return members[in.Name()].Admin(ctx)
		},
		Patroni: hook,
	}
	// judge runs the whole audit of spec and returns the verdicts of the
	// Patroni checks per instance; its JSON must not hold the password.
	judge := func(t *testing.T, spec *model.Cluster) map[string]map[string]Verdict {
		t.Helper()
		rep := Run(ctx, &model.Desired{Clusters: []*model.Cluster{spec}}, col, Options{Profile: ProfileStrict})
		out := map[string]map[string]Verdict{}
		for _, ch := range rep.Checks {
			if !strings.HasPrefix(ch.ID, "patroni-") {
				continue
			}
			for _, r := range ch.Results {
				if out[r.Instance] == nil {
					out[r.Instance] = map[string]Verdict{}
				}
				out[r.Instance][ch.ID] = r.Verdict
			}
		}
		var b strings.Builder
		if err := rep.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), c.APIPassword) {
			t.Error("the report holds the REST password")
		}
		if len(out) != len(spec.Instances) {
			t.Fatalf("Patroni verdicts for %d instances, want %d: %v", len(out), len(spec.Instances), out)
		}
		return out
	}
	expect := func(t *testing.T, got map[string]map[string]Verdict, check string, want Status, why string) {
		t.Helper()
		for in, vs := range got {
			if v := vs[check]; v.Status != want || !strings.Contains(v.Why, why) {
				t.Errorf("%s on %s = %s (%s), want %s (%q); evidence %v", check, in, v.Status, v.Why, want, why, v.Evidence)
			}
		}
	}

	t.Run("healthy", func(t *testing.T) {
		got := judge(t, patroniSpec(c))
		expect(t, got, "patroni-failover", StatusPass, "1 replica(s) that can be promoted")
		expect(t, got, "patroni-rest-auth", StatusPass, "requires credentials")
		expect(t, got, "patroni-rest-ssl", StatusFail, "plain http")
		leader, err := c.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for in, vs := range got {
			v := vs["patroni-failover"]
			if !hasFact(v, "leader", leader.Name()) || !hasFact(v, "synchronous_mode", "false") {
				t.Errorf("patroni-failover on %s lacks the leader %s or synchronous_mode: %v", in, leader.Name(), v.Evidence)
			}
			for _, m := range c.Members() {
				if m.Name() != leader.Name() && !hasFact(v, "member "+m.Name(), "lag 0 bytes") {
					t.Errorf("patroni-failover on %s lacks replica %s streaming with its lag: %v", in, m.Name(), v.Evidence)
				}
			}
			if !hasFact(vs["patroni-rest-auth"], "credentials", "are accepted") {
				t.Errorf("patroni-rest-auth on %s does not say the credentials are accepted: %v", in, vs["patroni-rest-auth"].Evidence)
			}
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		spec := patroniSpec(c)
		spec.Patroni.Password = model.NewSecret("not-" + c.APIPassword)
		got := judge(t, spec)
		expect(t, got, "patroni-rest-auth", StatusPass, "requires credentials")
		for in, vs := range got {
			if !hasFact(vs["patroni-rest-auth"], "credentials", "are refused") {
				t.Errorf("patroni-rest-auth on %s does not say the credentials are refused: %v", in, vs["patroni-rest-auth"].Evidence)
			}
		}
	})
	t.Run("https asked, http served", func(t *testing.T) {
		spec := patroniSpec(c)
		spec.Patroni.SSL = true
		got := judge(t, spec)
		expect(t, got, "patroni-rest-ssl", StatusFail, "answers without TLS")
		expect(t, got, "patroni-failover", StatusUnknown, "https://")
	})
	t.Run("unreachable", func(t *testing.T) {
		spec := patroniSpec(c)
		spec.Patroni.Port = c.Port // PostgreSQL's port: no REST API there
		got := judge(t, spec)
		expect(t, got, "patroni-failover", StatusUnknown, "Patroni at http://")
		expect(t, got, "patroni-rest-auth", StatusUnknown, "Patroni at http://")
	})
	t.Run("not under Patroni", func(t *testing.T) {
		spec := patroniSpec(c)
		spec.Patroni.Mode = model.PatroniModeRemove
		got := judge(t, spec)
		expect(t, got, "patroni-failover", StatusNotApplicable, "patroni_mode: remove")
	})
	t.Run("replica stopped", func(t *testing.T) {
		leader, err := c.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var replica *patronienv.Member
		for _, m := range c.Members() {
			if m.Name() != leader.Name() {
				replica = m
			}
		}
		if err := replica.StopPatroni(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := replica.StartPatroni(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitHealthy(ctx); err != nil {
				t.Fatal(err)
			}
		}()
		got := judge(t, patroniSpec(c))
		if v := got[leader.Name()]["patroni-failover"]; v.Status != StatusFail || !strings.Contains(v.Why, "no healthy replica") {
			t.Errorf("patroni-failover on the leader with its replica stopped = %s (%s), want fail; evidence %v", v.Status, v.Why, v.Evidence)
		}
		if v := got[replica.Name()]["patroni-failover"]; v.Status != StatusUnknown || !strings.Contains(v.Why, "Patroni at ") {
			t.Errorf("patroni-failover on the stopped replica = %s (%s), want unknown: its REST API is down", v.Status, v.Why)
		}
	})
	t.Run("paused", func(t *testing.T) {
		if out, err := c.Patronictl(ctx, "pause", "--wait", c.Name); err != nil {
			t.Fatalf("patronictl pause: %v: %s", err, out)
		}
		defer func() {
			if out, err := c.Patronictl(context.WithoutCancel(ctx), "resume", "--wait", c.Name); err != nil {
				t.Errorf("patronictl resume: %v: %s", err, out)
			}
		}()
		got := judge(t, patroniSpec(c))
		expect(t, got, "patroni-failover", StatusFail, "paused")
	})
}

// hasFact reports whether the verdict has a fact name whose value holds s.
func hasFact(v Verdict, name, s string) bool {
	for _, f := range v.Evidence {
		if f.Name == name && strings.Contains(f.Value, s) {
			return true
		}
	}
	return false
}
