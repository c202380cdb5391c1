package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a problem refuses the spec.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Rule names of the checks done outside policy profiles.
const (
	RuleSyntax    = "syntax"
	RuleSchema    = "schema"
	RuleConflict  = "conflict"
	RuleIdentity  = "identity"
	RuleRole      = "role"
	RuleHBA       = "hba"
	RulePooler    = "pgbouncer" // PgBouncer's files: pgb_hba_rules, pool_* fields, pgbouncer_* variables
	RuleDatabase  = "database"
	RuleParameter = "parameter"
	RuleLimit     = "limit"
	RuleText      = "text"    // a text PostgreSQL, pg_hba.conf or a log line cannot hold
	RuleMemory    = "memory"  // the load's memory budget ran out (ErrMemoryBudget)
	RuleTimeout   = "timeout" // the evaluator's time budget: may pass on a less busy machine
)

// Problem is one thing wrong with a spec, at a position in the repository.
type Problem struct {
	Pos      Pos
	Message  string
	Rule     string   // check or policy rule id
	Controls []string // compliance controls a policy rule serves, e.g. SOC2-CC6.6
	Severity Severity // "" means error
}

func (p Problem) String() string {
	msg := p.Message
	if p.Severity == SeverityWarning {
		msg = "warning: " + msg
	}
	if len(p.Controls) > 0 {
		msg += " [" + p.Rule + "; " + strings.Join(p.Controls, ", ") + "]"
	}
	return p.Pos.String() + ": " + msg
}

// IsError reports whether the problem refuses the spec.
func (p Problem) IsError() bool { return p.Severity != SeverityWarning }

// Problems is every problem found in one run, in file order.
type Problems []Problem

// Err returns the problems as an error when any of them is an error.
func (ps Problems) Err() error {
	n := 0
	for _, p := range ps {
		if p.IsError() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &InvalidError{Problems: ps, count: n}
}

// sort orders the problems by position, drops repeats, and makes every
// message and file name one line (oneLine): whatever a value holds, a
// problem is one line of the validate output and of the daemon's log.
func (ps Problems) sort() Problems {
	for i := range ps {
		ps[i].Message, ps[i].Pos.File = oneLine(ps[i].Message), oneLine(ps[i].Pos.File)
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Message, b.Message),
		)
	})
	// One value may fail one check in several ways (a schema error and a
	// Go check, or two alternatives of a disjunction): keep the first.
	return slices.CompactFunc(ps, func(a, b Problem) bool {
		return a.Pos == b.Pos && a.Pos.Line != 0 && a.Rule == b.Rule && a.Message == b.Message
	})
}

// InvalidError is returned for a spec that must not be applied.
type InvalidError struct {
	Problems Problems
	count    int
}

// Is makes errors.Is(err, ErrMemoryBudget) true for a spec refused for its
// memory budget.
func (e *InvalidError) Is(target error) bool {
	if target != ErrMemoryBudget {
		return false
	}
	for _, p := range e.Problems {
		if p.Rule == RuleMemory {
			return true
		}
	}
	return false
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid spec: %d problem(s)", e.count)
	for _, p := range e.Problems {
		if p.IsError() {
			b.WriteString("\n  ")
			b.WriteString(p.String())
		}
	}
	return b.String()
}
