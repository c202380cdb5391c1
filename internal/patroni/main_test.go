package patroni_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// One three-member cluster (REST on http, Pigsty's default) serves the
// package's tests; it starts on first use. Tests that switch over or fail
// over leave it healthy with another leader.
var shared struct {
	once sync.Once
	c    *patronienv.Cluster
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		if err := shared.c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "close Patroni cluster:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// cluster returns the shared cluster, healthy.
func cluster(t *testing.T) *patronienv.Cluster {
	t.Helper()
	shared.once.Do(func() {
		begin := time.Now()
		shared.c, shared.err = patronienv.Start(patronienv.Options{Name: "pg-test"})
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "Patroni cluster pg-test (3 members) started in %s\n", time.Since(begin).Round(time.Millisecond))
		}
	})
	if shared.err != nil {
		t.Fatalf("start Patroni cluster: %v", shared.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			shared.c.LogTails(t)
		}
	})
	if err := shared.c.WaitHealthy(ctx(t)); err != nil {
		t.Fatal(err)
	}
	return shared.c
}

// ctx is the test's context with a bound for the waits of one test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

// client is a client with the cluster's REST credentials and CA.
func client(t *testing.T, c *patronienv.Cluster, edit ...func(*patroni.Options)) *patroni.Client {
	t.Helper()
	opts := patroni.Options{Username: c.APIUser, Password: model.NewSecret(c.APIPassword), CAFile: c.CACertFile}
	for _, e := range edit {
		e(&opts)
	}
	cl, err := patroni.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// bases are the members' REST API URLs, in Seq order.
func bases(c *patronienv.Cluster) []string {
	var out []string
	for _, m := range c.Members() {
		out = append(out, m.APIURL())
	}
	return out
}

// inventory is the cluster as a Pigsty inventory installed it: the first
// member primary, the others replicas.
func inventory(c *patronienv.Cluster) []*model.Instance {
	var out []*model.Instance
	for _, m := range c.Members() {
		role := model.RoleReplica
		if m.Seq == 1 {
			role = model.RolePrimary
		}
		out = append(out, &model.Instance{Cluster: c.Name, Seq: m.Seq, IP: m.Addr, Port: m.Port, Role: role})
	}
	return out
}

// catalog reads pg_is_in_recovery() on every member as dbuser_dba, as the
// inspect step would.
func catalog(ctx context.Context, c *patronienv.Cluster) map[string]model.CatalogRecovery {
	out := map[string]model.CatalogRecovery{}
	for _, m := range c.Members() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := m.Connect(cctx, c.SuperUser, c.SuperPassword, "postgres")
		if err != nil {
			cancel()
			out[m.Name()] = model.CatalogRecovery{Error: "connect failed"}
			continue
		}
		var rec bool
		err = conn.QueryRow(cctx, "SELECT pg_is_in_recovery()").Scan(&rec)
		conn.Close(context.Background())
		cancel()
		if err != nil {
			out[m.Name()] = model.CatalogRecovery{Error: "query failed"}
			continue
		}
		out[m.Name()] = model.CatalogRecovery{Reachable: true, InRecovery: rec}
	}
	return out
}

// liveTopology is what the inspect step will compute: the view from the
// first member that answers, the catalog of every member.
func liveTopology(ctx context.Context, c *patronienv.Cluster, cl *patroni.Client) model.Topology {
	in := patroni.TopologyInput{Cluster: c.Name, Managed: true, Inventory: inventory(c), Catalog: catalog(ctx, c)}
	view, err := cl.View(ctx, bases(c))
	if err != nil {
		in.PatroniError = err.Error()
	} else {
		in.Patroni = view
	}
	return patroni.Topology(in)
}

// replica returns a member that does not lead.
func replica(t *testing.T, c *patronienv.Cluster) *patronienv.Member {
	t.Helper()
	leader, err := c.Leader(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members() {
		if m != leader {
			return m
		}
	}
	t.Fatal("no replica")
	return nil
}

// waitUntil polls cond every 100 ms until it holds or ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("wait for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
