package spec

import "github.com/pgreconciler/pgreconciler/internal/model"

// checkHBA checks every HBA rule as resolved for each instance.
func (cs *clusterSrc) checkHBA() {}

// rawLine is a raw pg_hba.conf line of a rule's rules list, classified.
type rawLine struct {
	text     string
	tcp, ssl bool
	loopback bool
	method   string
}

// rawLines classifies a rule's raw lines.
func rawLines(r model.HBARule) []rawLine { return nil }
