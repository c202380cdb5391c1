package daemon

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/audit"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// The periodic compliance audit: every audit.interval (default 1h) the
// controls of the security reference are judged on every cluster the
// daemon reconciles, by package audit as `reconciler audit` judges them
// (without the chain of custody, which needs a period), and exported as
// pgreconciler_control_status{cluster,instance,control}: 1 pass, 0 fail,
// absent when unknown or not applicable.

// firstAuditDelay is how soon after a generation starts the first audit
// runs (the interval when shorter): long enough for the first fetch and
// reconciles, short enough that a restart does not leave the compliance
// row of the dashboard empty for an hour.
const firstAuditDelay = 30 * time.Second

// auditLoop audits every cluster, first after firstAuditDelay, then every
// audit.interval, until ctx is done. While no cluster is known yet (the
// first fetch still running, every commit refused), it looks again after
// firstAuditDelay.
func (d *Daemon) auditLoop(ctx context.Context, g *generation) {
	every := g.cfg.Audit.Interval.D()
	t := time.NewTimer(min(every, firstAuditDelay))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := every
		if d.auditAll(ctx, g) == 0 {
			next = min(every, firstAuditDelay)
		}
		t.Reset(next)
	}
}

// auditAll audits, one after the other, every cluster of every source's
// good revision that the daemon reconciles, and returns how many.
func (d *Daemon) auditAll(ctx context.Context, g *generation) int {
	profile, err := audit.ParseProfile(g.cfg.Audit.Profile)
	if err != nil { // config.Check refused it already
		d.log.Error("cannot audit", "err", err)
		return 0
	}
	n := 0
	for _, st := range d.sourceList() {
		rev := st.goodRevision()
		if rev == nil {
			continue
		}
		for _, c := range rev.desired.Clusters {
			if ctx.Err() != nil {
				return n
			}
			if d.clusters.known(c.Name) {
				d.auditCluster(ctx, g, rev, c, profile)
				n++
			}
		}
	}
	return n
}

// auditCluster judges one cluster and records its controls.
func (d *Daemon) auditCluster(ctx context.Context, g *generation, rev *revision, c *model.Cluster, profile audit.Profile) {
	log := d.log.With("cluster", c.Name)
	dialer := g.dialer.WithCommit(rev.prov.Commit)
	col := &audit.Collector{Connect: dialer.Connect,
		Pooler: audit.PoolerFrom(func(ctx context.Context, in *model.Instance) (*pgx.Conn, error) {
			return dialer.ConnectConsole(ctx, in, in.Pooler.Port)
		}, func(ctx context.Context, in *model.Instance, path string) ([]byte, error) {
			b, _, err := g.hba.Read(ctx, in, path) // pgb_hba.conf, where pg_hba.conf is read from
			return b, err
		})}
	if p := g.cfg.Patroni; p.Enabled {
		col.Patroni = audit.PatroniFrom(audit.PatroniAccess{CAFile: p.CAFile, Timeout: p.Timeout.D()})
	}
	if file := rootCertOf(g, c.Name); file != "" && file != "system" {
		roots, err := audit.LoadRoots(file)
		if err != nil {
			log.Warn("audit: server certificates are checked without the CA", "err", err)
		} else {
			col.Roots, col.RootsName = roots, file
		}
	}
	rep := audit.Run(ctx, &model.Desired{Clusters: []*model.Cluster{c}}, col, audit.Options{
		Profile: profile, Commit: rev.prov.Commit, Signer: rev.prov.Signer,
		NoVerifier: "the daemon's audit does not trace a period's changes (reconciler audit --since does)",
		Now:        d.now,
	})
	if ctx.Err() != nil {
		return // stopped mid-audit: the last complete audit stays exported
	}
	var samples []drift.ControlSample
	var pass, fail, other int
	for _, in := range c.Instances {
		for control, st := range rep.ControlStatus(c.Name, in.Name()) {
			switch st {
			case audit.StatusPass:
				pass++
			case audit.StatusFail:
				fail++
			default:
				other++
				continue
			}
			samples = append(samples, drift.ControlSample{Instance: in.Name(), Control: control, Pass: st == audit.StatusPass})
		}
	}
	d.controls.SetControls(c.Name, samples, d.now())
	var unread []string
	for _, in := range rep.Instances {
		if in.Err != "" {
			unread = append(unread, fmt.Sprintf("%s: %s", in.Instance, in.Err))
		}
	}
	if len(unread) > 0 {
		log.Warn("audit: instances could not be read: their controls are unknown", "err", unread)
	}
	log.Info("audited", "profile", string(profile), "pass", pass, "fail", fail, "unknown_or_na", other)
}

// rootCertOf is the sslrootcert the daemon's sessions to a cluster use:
// the cluster's, else the connection's, else PGSSLROOTCERT.
func rootCertOf(g *generation, cluster string) string {
	if s, ok := g.cfg.Connection.Clusters[cluster]; ok && s.SSLRootCert != "" {
		return s.SSLRootCert
	}
	if f := g.cfg.Connection.Settings.SSLRootCert; f != "" {
		return f
	}
	return os.Getenv("PGSSLROOTCERT")
}

// known reports whether the daemon reconciles the cluster (it was asked
// to at least once).
func (t *clusterTable) known(cluster string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[cluster] != nil
}
