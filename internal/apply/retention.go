package apply

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed sql/prune_change_log.sql
var pruneChangeLogSQL string

// DefaultChangeLogMaxAge is how long change-log rows are kept unless
// configured otherwise: a year, the audit window most compliance regimes
// ask for.
const DefaultChangeLogMaxAge = 365 * 24 * time.Hour

// Retention bounds the change log; an apply that wrote rows enforces it
// on the primary, in batches, after its changes. The newest applied row
// from a commit (the rewind check's floor) is always kept.
type Retention struct {
	// MaxAge deletes rows older than this (by the primary's clock); 0
	// means DefaultChangeLogMaxAge, negative keeps rows of any age.
	MaxAge time.Duration
	// MaxRows keeps at most this many rows, the newest; 0 means no limit.
	MaxRows int64
}

// pruneBatch is the most rows one DELETE of the retention removes: short
// transactions, little WAL at a time, no long lock on the table.
const pruneBatch = 5000

// PruneChangeLog enforces r on the change log of the database conn is
// connected to (the primary's postgres database), one batch of at most
// 5,000 rows per transaction, until a batch finds nothing to delete or
// ctx is done, and returns how many rows it deleted. A missing change log
// is nothing to prune.
func PruneChangeLog(ctx context.Context, conn *pgx.Conn, r Retention) (int64, error) {
	var cutoff *time.Time
	switch {
	case r.MaxAge == 0:
		r.MaxAge = DefaultChangeLogMaxAge
		fallthrough
	case r.MaxAge > 0:
		var now time.Time
		if err := conn.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
			return 0, fmt.Errorf("prune change log: %w", err)
		}
		t := now.Add(-r.MaxAge)
		cutoff = &t
	}
	var maxRows *int64
	if r.MaxRows > 0 {
		maxRows = &r.MaxRows
	}
	if cutoff == nil && maxRows == nil {
		return 0, nil
	}
	var total int64
	for {
		tag, err := conn.Exec(ctx, pruneChangeLogSQL, cutoff, maxRows, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune change log: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() == 0 || ctx.Err() != nil {
			return total, nil
		}
	}
}

// prune enforces the retention after an apply that wrote change-log rows.
// A failure is logged, never the apply's: the changes are made and
// recorded, and the next apply tries again.
func (e *executor) prune() {
	if !e.changeLogReady {
		return
	}
	conn, err := e.conn(e.primary, "postgres")
	if err == nil {
		var n int64
		n, err = PruneChangeLog(e.ctx, conn, e.opts.Retention)
		if n > 0 {
			e.log.Info("change log pruned", "cluster", e.cluster(), "rows", n)
		}
	}
	if err != nil {
		e.log.Warn("cannot prune the change log", "cluster", e.cluster(), "error", err)
	}
}
