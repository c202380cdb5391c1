package inspect

import (
	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// clients is what clients.sql reads: the groups (at most its LIMIT) and
// how many there are in all.
type clients struct {
	groups []model.ClientGroup
	total  int
}

// scanClients reads clients.sql, in its order (most sessions first).
func scanClients(rows pgx.Rows) (clients, error) {
	var out clients
	var g model.ClientGroup
	_, err := pgx.ForEachRow(rows, []any{&g.User, &g.Database, &g.ClientAddr, &g.Hidden, &g.SSL,
		&g.ApplicationName, &g.Sessions, &out.total}, func() error {
		out.groups = append(out.groups, g)
		return nil
	})
	return out, err
}

// maxLogTail is how much of each log file logged_clients.sql reads, from
// its end.
const maxLogTail = 16 << 20

// scanLogged reads logged_clients.sql: the groups' Sessions are the
// connections logged.
func scanLogged(rows pgx.Rows) (clients, error) {
	var out clients
	var g model.ClientGroup
	_, err := pgx.ForEachRow(rows, []any{&g.User, &g.Database, &g.ClientAddr, &g.SSL,
		&g.ApplicationName, &g.Sessions, &out.total}, func() error {
		out.groups = append(out.groups, g)
		return nil
	})
	return out, err
}

// ownedRow is a row of owned.sql.
type ownedRow struct {
	role     uint32
	database string
	objects  int
}

// scanOwned reads owned.sql.
func scanOwned(rows pgx.Rows) ([]ownedRow, error) {
	return collect(rows, func(o *ownedRow) []any { return []any{&o.role, &o.database, &o.objects} })
}

// joinOwned counts the owned objects into their roles.
func joinOwned(roles map[uint32]*model.LiveRole, owned []ownedRow) {
	for _, o := range owned {
		if r := roles[o.role]; r != nil {
			if r.Owns == nil {
				r.Owns = map[string]int{}
			}
			r.Owns[o.database] += o.objects
		}
	}
}
