package inspect

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanHBARules reads hba_rules.sql, in file order.
func scanHBARules(rows pgx.Rows) ([]model.HBARow, error) {
	return collect(rows, func(r *model.HBARow) []any {
		return []any{&r.Line, &r.Type, &r.Database, &r.User, &r.Address, &r.Netmask, &r.AuthMethod, &r.Options, &r.Error, &r.File}
	})
}

// scanFile reads hba_text.sql into the file part of h: text, modification
// and load times.
func scanFile(h *model.LiveHBA) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		var modified *time.Time
		_, err := pgx.ForEachRow(rows, []any{&h.Text, &modified, &h.Loaded}, func() error { return nil })
		if modified != nil {
			h.Modified = *modified
		}
		return err
	}
}
