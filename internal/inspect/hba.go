package inspect

import (
	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanHBARules reads hba_rules.sql, in file order.
func scanHBARules(rows pgx.Rows) ([]model.HBARow, error) {
	return collect(rows, func(r *model.HBARow) []any {
		return []any{&r.Line, &r.Type, &r.Database, &r.User, &r.Address, &r.Netmask, &r.AuthMethod, &r.Options, &r.Error}
	})
}

// scanText reads hba_text.sql: one row, one text.
func scanText(rows pgx.Rows) (string, error) {
	var text string
	_, err := pgx.ForEachRow(rows, []any{&text}, func() error { return nil })
	return text, err
}
