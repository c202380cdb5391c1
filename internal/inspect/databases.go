package inspect

import (
	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanDatabases reads databases.sql, keyed by oid.
func scanDatabases(rows pgx.Rows) (map[uint32]*model.LiveDatabase, error) {
	dbs := map[uint32]*model.LiveDatabase{}
	var oid uint32
	var d model.LiveDatabase
	_, err := pgx.ForEachRow(rows, []any{&oid, &d.Name, &d.Owner, &d.ConnLimit, &d.AllowConn, &d.IsTemplate,
		&d.Encoding, &d.Collate, &d.Ctype, &d.LocaleProvider, &d.ICULocale, &d.ICURules, &d.BuiltinLocale, &d.Tablespace, &d.ACL}, func() error {
		db := d
		dbs[oid] = &db
		return nil
	})
	return dbs, err
}
