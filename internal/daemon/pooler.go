package daemon

import (
	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
)

// poolers is the writer of the poolers' files (the configured HBA
// writer), nil when modes.pgbouncer is off: the PgBouncer beside each
// instance is then neither read nor written.
func (g *generation) poolers() apply.HBAWriter {
	if g.cfg.Modes.PgBouncer == config.ModeOff {
		return nil
	}
	return g.hba
}
