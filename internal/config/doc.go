// Package config reads and checks the daemon's configuration file
// (`reconciler run --config FILE`, YAML or CUE): sources, trust,
// connection defaults, the HBA writer, per-class modes, intervals and the
// listen address. A bad file is refused with every problem at the
// file:line:col of its key (positions.go keeps where each key is written,
// for YAML and CUE); the daemon then keeps its previous configuration.
//
// It only reads and checks: it opens no connection and reads no key file
// (internal/preflight judges those, at the positions kept here).
//
// What it must not import: anything of pgreconciler's. It is read by
// cmd/reconciler, the daemon and internal/preflight, so it cannot depend on
// them, and it must not open what it names: internal/preflight checks the
// files, internal/source and internal/dbconn use them.
package config
