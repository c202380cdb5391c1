package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
)

// PatroniAccess turns on reading and driving Patroni for the clusters it
// manages (patroni_enabled and patroni_mode not remove): the leader comes
// from Patroni's REST API, reloads go through POST /reload, pending
// restarts and Patroni's own settings are reported. The REST API is found
// at each instance's IP on patroni_port, on https when
// patroni_ssl_enabled, with patroni_username/patroni_password for the
// unsafe endpoints. Nil: the topology comes from the catalog alone.
type PatroniAccess struct {
	// CAFile verifies the REST API's certificate (Pigsty's
	// /pg/cert/ca.crt); empty means the system's roots.
	CAFile string
	// Timeout bounds each REST request; zero means patroni.DefaultTimeout.
	Timeout time.Duration
	// ConfigPath, when set, is where a member's patroni.yml is on its host
	// (Pigsty: /pg/conf/<pg_instance>.yml); it is read through Options.HBA
	// (locally or over SSH) and its REST settings checked. Nil: the
	// settings are only probed through the REST API.
	ConfigPath func(in *model.Instance) string
}

// catalogTimeout bounds the pg_is_in_recovery() read of one instance.
const catalogTimeout = 10 * time.Second

// topology establishes who leads the cluster before anything else is
// read (package patroni's Topology: Patroni's leader key, the catalog's
// pg_is_in_recovery() as fallback and cross-check, the inventory's
// pg_role compared with both). The reconcile then works on a copy of the
// cluster whose Primary is the live leader: the lock is taken there,
// cluster-wide changes are planned and applied there, per-instance ones on
// every member that runs, whatever pg_role says. When no leader is
// established nothing is written (guard); the findings are in the plan
// either way. It never ends the reconcile.
func (r *run) topology(ctx context.Context) bool {
	c := r.t.Cluster
	in := patroni.TopologyInput{Cluster: c.Name, Inventory: c.Instances, Catalog: r.catalogRecovery(ctx)}
	if r.opts.Patroni != nil && c.Patroni.Managed() {
		in.Managed = true
		pc, err := patroni.New(patroni.Options{Username: c.Patroni.Username, Password: c.Patroni.Password,
			CAFile: r.opts.Patroni.CAFile, Timeout: r.opts.Patroni.Timeout})
		if err != nil {
			in.PatroniError = err.Error()
		} else {
			r.patroni = pc
			view, err := pc.View(ctx, r.restBases())
			if err != nil {
				in.PatroniError = err.Error()
			} else {
				in.Patroni, r.view = view, view
			}
			r.checkSettings(ctx)
		}
	}
	topo := patroni.Topology(in)
	r.out.Topology = &topo
	if topo.Leader != "" && c.Instance(topo.Leader) != nil && c.Leader != topo.Leader {
		live := *c
		live.Leader = topo.Leader
		r.t.Cluster = &live
	}
	return true
}

// catalogRecovery reads pg_is_in_recovery() on every instance, in
// parallel, on a session of its own, which it keeps in r.sessions for the
// lock and the inspection.
func (r *run) catalogRecovery(ctx context.Context) map[string]model.CatalogRecovery {
	out := map[string]model.CatalogRecovery{}
	r.sessions = map[string]*pgx.Conn{}
	var wg sync.WaitGroup
	for _, in := range r.t.Cluster.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, conn := r.recoveryOf(ctx, in)
			r.sessionsMu.Lock()
			defer r.sessionsMu.Unlock()
			out[in.Name()] = cr
			if conn != nil {
				r.sessions[in.Name()] = conn
			}
		}()
	}
	wg.Wait()
	return out
}

// recoveryOf reads pg_is_in_recovery() of one instance, on the session
// kept for it when it may be reused (kept.go), else on a new one, and
// returns the session it read it on, open (nil when it failed).
func (r *run) recoveryOf(ctx context.Context, in *model.Instance) (model.CatalogRecovery, *pgx.Conn) {
	if conn, rec := r.kept(ctx, in); conn != nil {
		return model.CatalogRecovery{Reachable: true, InRecovery: rec}, conn
	}
	ctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	defer cancel()
	conn, err := r.dialer.Connect(ctx, in, "postgres")
	if err != nil {
		return model.CatalogRecovery{Error: err.Error()}, nil
	}
	var rec bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&rec); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return model.CatalogRecovery{Error: "read pg_is_in_recovery(): " + err.Error()}, nil
	}
	return model.CatalogRecovery{Reachable: true, InRecovery: rec}, conn
}

// restBase is the REST API of an instance.
func (r *run) restBase(in *model.Instance) string {
	p := r.t.Cluster.Patroni
	return patroni.BaseURL(in.IP, p.Port, p.SSL)
}

// restBases are the REST APIs of every instance, the live leader's first.
func (r *run) restBases() []string {
	var out []string
	if p := r.t.Cluster.Primary(); p != nil {
		out = append(out, r.restBase(p))
	}
	for _, in := range r.t.Cluster.Instances {
		if b := r.restBase(in); len(out) == 0 || b != out[0] {
			out = append(out, b)
		}
	}
	return out
}

// Outcome.Err when the topology gives the cluster nothing to write to.
var (
	errNoLeader      = errors.New("no leader established (see the topology findings): nothing applied")
	errStandbyLeader = errors.New("a standby cluster: its leader replays another cluster and takes no writes; nothing applied")
)

// leaderless says why writes must wait: the topology established no
// leader, or the leader is a standby leader; nil when there is a leader.
func (r *run) leaderless() error {
	switch t := r.out.Topology; {
	case t == nil:
		return nil
	case t.Leader == "":
		return errNoLeader
	case t.StandbyCluster:
		return errStandbyLeader
	}
	return nil
}

// applyHooks are the apply's Patroni hooks: a reload through POST /reload,
// and a check before each unit of writes that Patroni's leader is still
// the one the plan was made against. Nil hooks when Patroni is not read.
func (r *run) applyHooks() (reload func(context.Context, *model.Instance) error, leader func(context.Context) error) {
	if r.patroni == nil || r.view == nil || r.out.Topology == nil {
		return nil, nil
	}
	want := r.out.Topology.Leader
	reload = func(ctx context.Context, in *model.Instance) error { return r.patroni.Reload(ctx, r.restBase(in)) }
	leader = func(ctx context.Context) error {
		view, err := r.patroni.View(ctx, r.restBases())
		if err != nil {
			return nil // Patroni unreachable: the sessions' own recovery checks still hold
		}
		switch l := view.Leader(); {
		case l == nil:
			return errors.New("no member holds Patroni's leader key (a failover in progress?)")
		case l.Name != want:
			return fmt.Errorf("Patroni's leader is now %s, the plan was made against %s", l.Name, want)
		}
		return nil
	}
	return reload, leader
}

// refreshView reads Patroni's view again after an apply, for the pending
// restarts the re-plan reports.
func (r *run) refreshView(ctx context.Context) {
	if r.patroni == nil {
		return
	}
	if view, err := r.patroni.View(ctx, r.restBases()); err == nil {
		r.view = view
	}
}
