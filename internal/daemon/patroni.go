package daemon

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// patroniAccess is the reconcile's Patroni access of the configuration's
// patroni section; nil when it is not enabled.
func patroniAccess(p config.Patroni) *reconcile.PatroniAccess {
	if !p.Enabled {
		return nil
	}
	a := &reconcile.PatroniAccess{CAFile: p.CAFile, Timeout: p.Timeout.D()}
	if p.ConfigPath != "" {
		a.ConfigPath = func(in *model.Instance) string { return strings.ReplaceAll(p.ConfigPath, "{instance}", in.Name()) }
	}
	return a
}

// forgetMetrics deletes every series of a cluster that left the spec.
func (d *Daemon) forgetMetrics(cluster string) {
	d.rec.ForgetCluster(cluster)
	d.topo.ForgetCluster(cluster)
	d.controls.ForgetCluster(cluster)
}
