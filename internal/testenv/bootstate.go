package testenv

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// systemDatabases are never dropped by Reset.
func systemDatabases() []string { return []string{"postgres", "template0", "template1"} }

// bootState is the catalog right after bootstrap: what Reset restores.
type bootState struct {
	roles   map[string]roleAttrs // every role, pg_* included
	grants  map[grant]grantOpts  // every membership, with its options
	systems map[string]dbAttrs   // postgres and template1
}

type roleAttrs struct {
	super, inherit, createRole, createDB, login, replication, bypassRLS bool
	connLimit                                                           int
}

// clause is the ALTER ROLE option list that sets these attributes.
func (a roleAttrs) clause() string {
	opt := func(on bool, yes string) string {
		if on {
			return yes
		}
		return "NO" + yes
	}
	return strings.Join([]string{
		opt(a.super, "SUPERUSER"), opt(a.inherit, "INHERIT"), opt(a.createRole, "CREATEROLE"),
		opt(a.createDB, "CREATEDB"), opt(a.login, "LOGIN"), opt(a.replication, "REPLICATION"),
		opt(a.bypassRLS, "BYPASSRLS"), "CONNECTION LIMIT " + strconv.Itoa(a.connLimit),
	}, " ")
}

// grant is a membership: member belongs to role, granted by grantor (""
// before PostgreSQL 16, which does not tell grants apart by grantor).
type grant struct{ role, member, grantor string }

// grantOpts are a membership's options (inherit and set are always true
// before PostgreSQL 16).
type grantOpts struct{ admin, inherit, set bool }

// clause is what GRANT needs to give these options on version major.
func (o grantOpts) clause(major int) string {
	if major < 16 {
		if o.admin {
			return " WITH ADMIN OPTION"
		}
		return ""
	}
	return fmt.Sprintf(" WITH ADMIN %t, INHERIT %t, SET %t", o.admin, o.inherit, o.set)
}

// revoke is the statement that removes g on version major, with the grants
// that depend on its admin option in 16+.
func (g grant) revoke(major int) string {
	sql := "REVOKE " + ident(g.role) + " FROM " + ident(g.member)
	if major >= 16 {
		sql += " GRANTED BY " + ident(g.grantor) + " CASCADE"
	}
	return sql
}

type dbAttrs struct {
	owner      string
	connLimit  int
	allowConn  bool
	isTemplate bool
	acl        *string
}

const (
	rolesSQL = `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
		rolreplication, rolbypassrls, rolconnlimit FROM pg_authid`
	grantsSQL = `SELECT g.rolname, m.rolname, '', am.admin_option, true, true FROM pg_auth_members am
		JOIN pg_authid g ON g.oid = am.roleid JOIN pg_authid m ON m.oid = am.member`
	grantsSQL16 = `SELECT g.rolname, m.rolname, pg_get_userbyid(am.grantor), am.admin_option,
		am.inherit_option, am.set_option FROM pg_auth_members am
		JOIN pg_authid g ON g.oid = am.roleid JOIN pg_authid m ON m.oid = am.member`
	systemDBsSQL = `SELECT datname, pg_get_userbyid(datdba), datconnlimit, datallowconn, datistemplate,
		datacl::text FROM pg_database WHERE datname IN ('postgres', 'template1')`
)

func readBootState(ctx context.Context, conn *pgx.Conn, major int) (*bootState, error) {
	roles, err := readRoles(ctx, conn)
	if err != nil {
		return nil, err
	}
	grants, err := readGrants(ctx, conn, major)
	if err != nil {
		return nil, err
	}
	rows, _ := conn.Query(ctx, systemDBsSQL)
	systems := map[string]dbAttrs{}
	var name string
	var a dbAttrs
	_, err = pgx.ForEachRow(rows, []any{&name, &a.owner, &a.connLimit, &a.allowConn, &a.isTemplate, &a.acl}, func() error {
		systems[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read system databases: %w", err)
	}
	return &bootState{roles: roles, grants: grants, systems: systems}, nil
}

func readRoles(ctx context.Context, conn *pgx.Conn) (map[string]roleAttrs, error) {
	rows, _ := conn.Query(ctx, rolesSQL)
	roles := map[string]roleAttrs{}
	var name string
	var a roleAttrs
	_, err := pgx.ForEachRow(rows, []any{&name, &a.super, &a.inherit, &a.createRole, &a.createDB,
		&a.login, &a.replication, &a.bypassRLS, &a.connLimit}, func() error {
		roles[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	return roles, nil
}

func readGrants(ctx context.Context, conn *pgx.Conn, major int) (map[grant]grantOpts, error) {
	sql := grantsSQL
	if major >= 16 {
		sql = grantsSQL16
	}
	rows, _ := conn.Query(ctx, sql)
	grants := map[grant]grantOpts{}
	var g grant
	var o grantOpts
	_, err := pgx.ForEachRow(rows, []any{&g.role, &g.member, &g.grantor, &o.admin, &o.inherit, &o.set}, func() error {
		grants[g] = o
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	return grants, nil
}

// resetCatalog puts the primary's shared catalogs back to the bootstrap
// state. Its sessions are quiet: passwords never reach the log.
func (c *Cluster) resetCatalog(ctx context.Context) error {
	conn, err := c.Primary.admin(ctx, "postgres", true)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	steps := []func(context.Context, *pgx.Conn) error{
		c.dropDatabases, c.dropRoles, c.restoreRoles, c.restoreGrants, resetSettings, c.restoreSystemDatabases,
	}
	for _, step := range steps {
		if err := step(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) dropDatabases(ctx context.Context, conn *pgx.Conn) error {
	rows, _ := conn.Query(ctx, "SELECT datname, datistemplate FROM pg_database WHERE NOT datname = ANY($1)", systemDatabases())
	type db struct {
		Name     string
		Template bool
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[db])
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	for _, d := range dbs {
		var stmts []string
		if d.Template {
			stmts = append(stmts, "ALTER DATABASE "+ident(d.Name)+" IS_TEMPLATE false")
		}
		stmts = append(stmts, "DROP DATABASE "+ident(d.Name)+" WITH (FORCE)")
		if err := execAll(ctx, conn, stmts...); err != nil {
			return fmt.Errorf("drop database %s: %w", d.Name, err)
		}
	}
	return nil
}

// dropRoles drops every role the harness did not create, with what it
// owns in postgres and template1 (the only databases left).
func (c *Cluster) dropRoles(ctx context.Context, conn *pgx.Conn) error {
	live, err := readRoles(ctx, conn)
	if err != nil {
		return err
	}
	var extra []string
	for name := range live {
		if _, ok := c.boot.roles[name]; !ok {
			extra = append(extra, name)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	list := make([]string, len(extra))
	for i, name := range extra {
		list[i] = ident(name)
	}
	owned := strings.Join(list, ", ")
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE usename = ANY($1) AND pid <> pg_backend_pid()`, extra); err != nil {
		return fmt.Errorf("terminate sessions of %v: %w", extra, err)
	}
	t1, err := c.Primary.admin(ctx, "template1", true)
	if err != nil {
		return err
	}
	defer t1.Close(context.Background())
	for _, db := range []*pgx.Conn{conn, t1} {
		// One role at a time: DROP OWNED BY a list of roles whose default
		// ACLs refer to each other fails with "could not find tuple for
		// default ACL" (PostgreSQL 15).
		for _, role := range list {
			if err := execAll(ctx, db, "DROP OWNED BY "+role+" CASCADE"); err != nil {
				return fmt.Errorf("drop objects of %v: %w", extra, err)
			}
		}
		if err := execAll(ctx, db, "REASSIGN OWNED BY "+owned+" TO postgres"); err != nil {
			return fmt.Errorf("reassign objects of %v: %w", extra, err)
		}
	}
	for _, name := range list {
		if _, err := conn.Exec(ctx, "DROP ROLE "+name); err != nil {
			return fmt.Errorf("drop role %s: %w", name, err)
		}
	}
	return nil
}

// restoreRoles recreates missing bootstrap roles and restores the
// attributes, password, expiry and comment of each (pg_* roles excepted).
func (c *Cluster) restoreRoles(ctx context.Context, conn *pgx.Conn) error {
	live, err := readRoles(ctx, conn)
	if err != nil {
		return err
	}
	passwords := c.passwords()
	for name, attrs := range c.boot.roles {
		if strings.HasPrefix(name, "pg_") {
			continue
		}
		var stmts []string
		if _, ok := live[name]; !ok {
			stmts = append(stmts, "CREATE ROLE "+ident(name))
		}
		pw := "NULL"
		if p, ok := passwords[name]; ok {
			pw = quoteLiteral(p)
		}
		stmts = append(stmts, "ALTER ROLE "+ident(name)+" WITH "+attrs.clause()+" PASSWORD "+pw,
			"COMMENT ON ROLE "+ident(name)+" IS NULL")
		if err := execAll(ctx, conn, stmts...); err != nil {
			return fmt.Errorf("restore role %s: %w", name, err)
		}
	}
	// ALTER ROLE cannot set VALID UNTIL back to NULL (never expires); the
	// catalog can.
	names := make([]string, 0, len(c.boot.roles))
	for name := range c.boot.roles {
		names = append(names, name)
	}
	if _, err := conn.Exec(ctx, `UPDATE pg_authid SET rolvaliduntil = NULL
		WHERE rolname = ANY($1) AND rolvaliduntil IS NOT NULL`, names); err != nil {
		return fmt.Errorf("restore role expiry: %w", err)
	}
	return nil
}

// restoreGrants revokes memberships added or changed since bootstrap (in
// PostgreSQL 16+ one grantor's at a time) and grants the ones removed. The
// bootstrap memberships were all granted by superusers, which PostgreSQL
// 16+ records as granted by the bootstrap superuser: so are the grants
// made here.
func (c *Cluster) restoreGrants(ctx context.Context, conn *pgx.Conn) error {
	live, err := readGrants(ctx, conn, c.Major)
	if err != nil {
		return err
	}
	for g, opts := range live {
		if want, ok := c.boot.grants[g]; !ok || want != opts {
			if _, err := conn.Exec(ctx, g.revoke(c.Major)); err != nil {
				return fmt.Errorf("revoke %s from %s: %w", g.role, g.member, err)
			}
		}
	}
	// CASCADE may have taken more: read what is left.
	if live, err = readGrants(ctx, conn, c.Major); err != nil {
		return err
	}
	for g, opts := range c.boot.grants {
		if _, ok := live[g]; ok {
			continue
		}
		sql := "GRANT " + ident(g.role) + " TO " + ident(g.member) + opts.clause(c.Major)
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("grant %s to %s: %w", g.role, g.member, err)
		}
	}
	return nil
}

// resetSettings removes every ALTER ROLE/DATABASE … SET (none exist after
// bootstrap).
func resetSettings(ctx context.Context, conn *pgx.Conn) error {
	rows, _ := conn.Query(ctx, `SELECT coalesce(d.datname, ''), coalesce(r.rolname, '')
		FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase
		LEFT JOIN pg_authid r ON r.oid = s.setrole`)
	type setting struct{ DB, Role string }
	settings, err := pgx.CollectRows(rows, pgx.RowToStructByPos[setting])
	if err != nil {
		return fmt.Errorf("list role and database settings: %w", err)
	}
	for _, s := range settings {
		var sql string
		switch {
		case s.Role == "" && s.DB == "":
			sql = "ALTER ROLE ALL RESET ALL"
		case s.Role == "":
			sql = "ALTER DATABASE " + ident(s.DB) + " RESET ALL"
		case s.DB == "":
			sql = "ALTER ROLE " + ident(s.Role) + " RESET ALL"
		default:
			sql = "ALTER ROLE " + ident(s.Role) + " IN DATABASE " + ident(s.DB) + " RESET ALL"
		}
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("reset settings: %w", err)
		}
	}
	return nil
}

// restoreSystemDatabases restores owner, limits and ACL of postgres and
// template1. The ACL goes back through the catalog: roles a test granted
// privileges to are gone by now (DROP OWNED revoked them).
func (c *Cluster) restoreSystemDatabases(ctx context.Context, conn *pgx.Conn) error {
	for name, want := range c.boot.systems {
		stmts := []string{
			"ALTER DATABASE " + ident(name) + " OWNER TO " + ident(want.owner),
			fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t CONNECTION LIMIT %d IS_TEMPLATE %t",
				ident(name), want.allowConn, want.connLimit, want.isTemplate),
		}
		if err := execAll(ctx, conn, stmts...); err != nil {
			return fmt.Errorf("restore database %s: %w", name, err)
		}
		if _, err := conn.Exec(ctx, `UPDATE pg_database SET datacl = $2::text::aclitem[]
			WHERE datname = $1 AND datacl::text IS DISTINCT FROM $2::text`, name, want.acl); err != nil {
			return fmt.Errorf("restore privileges on database %s: %w", name, err)
		}
	}
	return nil
}

// execAll runs statements one by one (utility statements such as DROP
// DATABASE cannot share a transaction).
func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, sql := range stmts {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}
