package inspect

import (
	"cmp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// configRow is a row of pg_db_role_setting: oid 0 means all roles or all
// databases.
type configRow struct {
	role, database uint32
	config         []string // "name=value"
}

// scanConfigs reads db_role_settings.sql.
func scanConfigs(rows pgx.Rows) ([]configRow, error) {
	return collect(rows, func(c *configRow) []any { return []any{&c.role, &c.database, &c.config} })
}

// roleSettings are a role's settings from one row, Database "" for the
// role-wide ones.
func roleSettings(c configRow, dbs map[uint32]*model.LiveDatabase) []model.LiveRoleSetting {
	var db string
	if c.database != 0 {
		d := dbs[c.database]
		if d == nil {
			return nil // the database is gone; its settings with it
		}
		db = d.Name
	}
	out := make([]model.LiveRoleSetting, 0, len(c.config))
	for _, item := range c.config {
		name, value := splitConfig(item)
		out = append(out, model.LiveRoleSetting{Database: db, Name: name, Value: value})
	}
	return out
}

// databaseSettings are the settings of ALTER DATABASE … SET.
func databaseSettings(config []string) []model.Setting {
	out := make([]model.Setting, 0, len(config))
	for _, item := range config {
		name, value := splitConfig(item)
		out = append(out, model.Setting{Name: name, Value: value})
	}
	return out
}

// splitConfig splits "name=value" at the first '=': names never hold one,
// values may.
func splitConfig(item string) (name, value string) {
	name, value, _ = strings.Cut(item, "=")
	return name, value
}

// sortSettings orders role settings by database ("" first), then name, and
// database settings by name.
func sortSettings(roles map[uint32]*model.LiveRole, dbs map[uint32]*model.LiveDatabase) {
	for _, r := range roles {
		slices.SortFunc(r.Settings, func(a, b model.LiveRoleSetting) int {
			return cmp.Or(cmp.Compare(a.Database, b.Database), cmp.Compare(a.Name, b.Name))
		})
	}
	for _, d := range dbs {
		slices.SortFunc(d.Settings, func(a, b model.Setting) int { return cmp.Compare(a.Name, b.Name) })
	}
}
