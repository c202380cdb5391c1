package diff

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// includedRules lists the rules the server reads from files other than
// pg_hba.conf itself: PostgreSQL 16's include, include_if_exists and
// include_dir directives. The reconciler manages pg_hba.conf whole, so
// they are drift (the directive is not a rule the spec renders, and the
// file it names would add rules nobody reviewed); the apply's rewrite
// removes the directive. Before 16 a directive is a broken line.
func includedRules(h *model.LiveHBA) []string {
	var out []string
	for _, row := range h.Rules {
		if row.File == "" || row.File == h.Path {
			continue
		}
		what := hba.FromRow(row).String()
		if msg := hba.RowError(row); msg != "" {
			what = msg
		}
		out = append(out, fmt.Sprintf("%s line %d (an include directive): %s", row.File, row.Line, what))
	}
	return out
}

// unparsedRules lists the lines of pg_hba.conf that the server reads
// without an error but Parse refuses (errs): a method or option newer than
// this package (18's oauth) or build-dependent. They would otherwise be
// invisible: drift, shown as the server reads them.
func unparsedRules(h *model.LiveHBA, errs []error) []string {
	refused := map[int]bool{}
	for _, err := range errs {
		if pe, ok := err.(*hba.ParseError); ok {
			refused[pe.Line] = true
		}
	}
	var out []string
	for _, row := range h.Rules {
		if refused[row.Line] && (row.File == "" || row.File == h.Path) && hba.RowError(row) == "" {
			out = append(out, fmt.Sprintf("line %d (not understood by pgreconciler, read by the server): %s", row.Line, hba.FromRow(row)))
		}
	}
	return out
}
