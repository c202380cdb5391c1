package audit

import (
	"context"
	"sync"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
)

// PatroniAccess turns on reading Patroni for the clusters it manages
// (patroni_enabled, patroni_mode not remove), as plan's --patroni and the
// daemon's patroni section do: each instance's REST API at its IP on
// patroni_port, https when patroni_ssl_enabled, patroni_username and
// patroni_password for the probe of the unsafe endpoints.
type PatroniAccess struct {
	// CAFile verifies the REST API's certificate (Pigsty's
	// /pg/cert/ca.crt); empty means the system's roots.
	CAFile string
	// Timeout bounds each REST request; zero means patroni.DefaultTimeout.
	Timeout time.Duration
}

// defaultMaxLag is Patroni's maximum_lag_on_failover when the DCS does not
// set it: 1 MiB.
const defaultMaxLag = 1 << 20

// PatroniFrom returns a Collector.Patroni hook that reads an instance's
// Patroni through its REST API, read-only: GET /cluster, /patroni and
// /config, and the probe of package patroni (a PATCH /config Patroni
// refuses before it reads the body: it learns whether the allowlist lets
// the reconciler in and whether authentication is enforced, and changes
// nothing). An instance of a cluster Patroni does not manage gets nil: its
// checks are not applicable.
func PatroniFrom(acc PatroniAccess) func(context.Context, *model.Cluster, *model.Instance) *Patroni {
	// One client per cluster of the spec (its credentials), shared by its
	// members, so their connections are reused within an audit.
	var mu sync.Mutex
	clients := map[*model.Cluster]*patroni.Client{}
	client := func(cl *model.Cluster) (*patroni.Client, error) {
		mu.Lock()
		defer mu.Unlock()
		if c := clients[cl]; c != nil {
			return c, nil
		}
		c, err := patroni.New(patroni.Options{Username: cl.Patroni.Username, Password: cl.Patroni.Password, CAFile: acc.CAFile, Timeout: acc.Timeout})
		if err == nil {
			clients[cl] = c
		}
		return c, err
	}
	return func(ctx context.Context, cl *model.Cluster, in *model.Instance) *Patroni {
		spec := cl.Patroni
		if !spec.Managed() {
			return nil
		}
		p := &Patroni{URL: patroni.BaseURL(in.IP, spec.Port, spec.SSL), TLS: spec.SSL, Unread: map[string]string{}}
		c, err := client(cl)
		if err != nil {
			p.Err = err.Error()
			return p
		}
		view, err := c.Cluster(ctx, p.URL)
		if err != nil {
			p.Err = err.Error() // package patroni's errors never carry a credential
			p.PlainHTTP = spec.SSL && plainHTTP(err)
			return p
		}
		p.Members, p.Paused = len(view.Members), view.Paused
		if l := view.Leader(); l != nil {
			p.Leader = l.Name
		}
		for _, m := range view.Members {
			p.Member = append(p.Member, PatroniMember{Name: m.Name, Role: string(m.Role), State: string(m.State), Lag: m.LagBytes, NoFailover: m.NoFailover})
		}
		if st, err := c.Status(ctx, p.URL); err != nil {
			p.Unread["status"] = err.Error()
		} else {
			p.Role, p.State, p.FailsafeActive = st.Role, string(st.State), st.FailsafeActive
			p.Paused = p.Paused || st.Paused
		}
		p.MaxLag = defaultMaxLag
		if cfg, err := c.Config(ctx, p.URL); err != nil {
			p.Unread["config"] = err.Error()
		} else {
			p.Failsafe, p.SyncMode, p.SyncStrict = cfg.FailsafeMode, cfg.SynchronousMode, cfg.SynchronousModeStrict
			if cfg.MaximumLagOnFailover != nil {
				p.MaxLag = *cfg.MaximumLagOnFailover
			}
		}
		if pr, err := c.Probe(ctx, p.URL); err != nil {
			p.ProbeErr = err.Error()
		} else {
			p.Probe = pr
		}
		if len(p.Unread) == 0 {
			p.Unread = nil
		}
		return p
	}
}
