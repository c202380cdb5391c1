package inspect

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// catalog is what round trip 2 reads, one field per query, before the rows
// are joined into the state.
type catalog struct {
	roles       map[uint32]*model.LiveRole // by oid
	memberships []membershipRow
	configs     []configRow
	comments    []commentRow
	databases   map[uint32]*model.LiveDatabase // by oid
	settings    map[string]*model.LiveSetting
	conf        serverConf // files, command line: the settings' server values
	hba         *model.LiveHBA
	replication []model.ReplicationClient
	clients     clients    // sessions open now (impact preview)
	owned       []ownedRow // objects owned per role and database
	logged      clients    // connections logged within the log window
	logRead     bool
}

// readCatalog runs round trip 2: one batch of flat queries, chosen by what
// the session may read so that no query fails for lack of privilege. The
// batch is one read-only repeatable-read transaction, so that the rows it
// joins (oids above all) come from one snapshot.
func readCatalog(ctx context.Context, conn *pgx.Conn, s *session, logWindow time.Duration) (*catalog, error) {
	var c catalog
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	rolesQuery := "roles"
	if s.authid {
		rolesQuery = "roles_authid"
	}
	queue(b, rolesQuery, into(&c.roles, scanRoles))
	membershipsQuery := "memberships"
	if s.version >= 160000 {
		membershipsQuery = "memberships16"
	}
	queue(b, membershipsQuery, into(&c.memberships, scanMemberships))
	queue(b, "db_role_settings", into(&c.configs, scanConfigs))
	queue(b, "comments", into(&c.comments, scanComments))
	queue(b, "databases", into(&c.databases, scanDatabases))
	queueSettings(b, s, nil, &c.settings, &c.conf)
	if s.hbaRules {
		c.hba = &model.LiveHBA{Path: s.hbaFile}
		queue(b, "hba_rules", into(&c.hba.Rules, scanHBARules))
		if s.hbaFileText {
			queue(b, "hba_text", scanFile(c.hba), s.hbaFile)
		}
	}
	queue(b, "replication", into(&c.replication, scanReplication))
	queue(b, "clients", into(&c.clients, scanClients))
	queue(b, "owned", into(&c.owned, scanOwned))
	if logWindow > 0 && s.logsReadable {
		c.logRead = true
		queue(b, "logged_clients", into(&c.logged, scanLogged), logWindow.Seconds(), maxLogTail)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	err := br.Close()
	// After a failure the transaction is left aborted: roll it back (a
	// successful COMMIT has closed it already, then this does nothing).
	_ = br.Tx().Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return &c, nil
}

// fill joins the catalog rows into st.
func (c *catalog) fill(st *model.InstanceState) {
	roles, dbs := c.roles, c.databases
	joinMemberships(roles, c.memberships)
	joinOwned(roles, c.owned)
	for _, cf := range c.configs {
		switch {
		case cf.role != 0:
			if r := roles[cf.role]; r != nil {
				r.Settings = append(r.Settings, roleSettings(cf, dbs)...)
			}
		case cf.database != 0:
			if d := dbs[cf.database]; d != nil {
				d.Settings = append(d.Settings, databaseSettings(cf.config)...)
			}
		}
		// ALTER ROLE ALL SET (role 0, database 0) has no place in the model.
	}
	for i := range c.comments {
		cm := &c.comments[i] // Comment points into the rows: no copy per comment
		if cm.database {
			if d := dbs[cm.oid]; d != nil {
				d.Comment = &cm.text
			}
		} else if r := roles[cm.oid]; r != nil {
			r.Comment = &cm.text
		}
	}
	sortSettings(roles, dbs)
	st.Roles = sortedBy(roles, func(r *model.LiveRole) string { return r.Name })
	st.Databases = sortedBy(dbs, func(d *model.LiveDatabase) string { return d.Name })
	st.Settings = c.conf.fill(c.settings)
	st.HBA = c.hba
	st.Replication = c.replication
	st.Clients, st.ClientGroups = c.clients.groups, c.clients.total
	st.LogRead, st.Logged, st.LoggedGroups = c.logRead, c.logged.groups, c.logged.total
}

// sortedBy returns the values of m sorted by name.
func sortedBy[T any](m map[uint32]*T, name func(*T) string) []*T {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *T) int { return cmp.Compare(name(a), name(b)) })
	return out
}

// commentRow is a row of pg_shdescription for a role or a database.
type commentRow struct {
	oid      uint32
	database bool
	text     string
}

// scanComments reads comments.sql.
func scanComments(rows pgx.Rows) ([]commentRow, error) {
	return collect(rows, func(c *commentRow) []any { return []any{&c.oid, &c.database, &c.text} })
}
