package inspect

import (
	"cmp"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanReplication reads replication.sql, sorted by application name, then
// client address.
func scanReplication(rows pgx.Rows) ([]model.ReplicationClient, error) {
	out, err := collect(rows, func(c *model.ReplicationClient) []any {
		return []any{&c.User, &c.ApplicationName, &c.ClientAddr, &c.SSL, &c.State}
	})
	slices.SortFunc(out, func(a, b model.ReplicationClient) int {
		return cmp.Or(cmp.Compare(a.ApplicationName, b.ApplicationName), cmp.Compare(a.ClientAddr, b.ClientAddr))
	})
	return out, err
}
