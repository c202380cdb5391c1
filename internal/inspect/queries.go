package inspect

import (
	"embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// sqlFiles holds the catalog queries, one statement per file.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// query returns the text of sql/<name>.sql. Every name is a constant of
// this package, so a missing file is a build mistake caught by any test.
func query(name string) string {
	b, err := sqlFiles.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("inspect: missing embedded query %s: %v", name, err))
	}
	return string(b)
}

// queue adds sql/<name>.sql to b; scan reads its rows when the batch
// results arrive, and its errors name the query.
func queue(b *pgx.Batch, name string, scan func(pgx.Rows) error, args ...any) {
	b.Queue(query(name), args...).Query(func(rows pgx.Rows) error {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s: %w", strings.ReplaceAll(name, "_", " "), err)
		}
		return nil
	})
}

// into adapts a scan function to queue: its result lands in dst.
func into[T any](dst *T, scan func(pgx.Rows) (T, error)) func(pgx.Rows) error {
	return func(rows pgx.Rows) (err error) {
		*dst, err = scan(rows)
		return err
	}
}

// collect scans every row into a T through the targets fields returns
// (pointers into the T, in column order).
func collect[T any](rows pgx.Rows, fields func(*T) []any) ([]T, error) {
	var out []T
	var v T
	_, err := pgx.ForEachRow(rows, fields(&v), func() error {
		out = append(out, v)
		return nil
	})
	return out, err
}
