// Package config reads and checks the daemon's configuration file
// (`reconciler run --config FILE`, YAML or CUE): sources, trust,
// connection defaults, the HBA writer, per-class modes, intervals and the
// listen address. A bad file is refused with the file, line and reason;
// the daemon then keeps its previous configuration.
//
// It only reads and checks: it opens no connection and reads no key file
// (the daemon does, when it wires the configuration in).
package config
