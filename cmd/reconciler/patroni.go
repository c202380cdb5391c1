package main

import "github.com/pgreconciler/pgreconciler/internal/reconcile"

// patroniFlags turn on Patroni for plan and apply, as the daemon's
// patroni section does.
type patroniFlags struct {
	enabled bool
	caFile  string
}

func (f *patroniFlags) register(fs flagSet) {
	fs.BoolVar(&f.enabled, "patroni", false, "read the leader of Patroni-managed clusters (patroni_mode not remove) from Patroni's REST API, reload through it, report its pending restarts and settings")
	fs.StringVar(&f.caFile, "patroni-ca-file", "", "CA `file` verifying the REST API when patroni_ssl_enabled (Pigsty: /pg/cert/ca.crt)")
}

func (f *patroniFlags) access() *reconcile.PatroniAccess {
	if !f.enabled {
		return nil
	}
	return &reconcile.PatroniAccess{CAFile: f.caFile}
}
