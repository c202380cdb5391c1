package patronienv

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// bootstrapLeader does what Pigsty's pgsql play does on the primary after
// Patroni bootstrapped it: it creates the system roles with passwords
// (pg-init-roles.sql; Patroni made replicator itself), writes Pigsty's
// pg_hba.conf and reloads. Replicas clone both with pg_basebackup.
func (c *Cluster) bootstrapLeader(ctx context.Context, m *Member) error {
	conn, err := m.socketConn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		"CREATE ROLE dbuser_dba SUPERUSER LOGIN",
		"CREATE ROLE dbuser_monitor LOGIN IN ROLE pg_monitor",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create system role: %w", err)
		}
	}
	for role, pw := range map[string]string{c.SuperUser: c.SuperPassword, c.MonitorUser: c.MonitorPassword} {
		sql := "ALTER ROLE " + pgx.Identifier{role}.Sanitize() + " PASSWORD " + quoteLiteral(pw)
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("set password of %s: %w", role, err)
		}
	}
	if err := c.acct.WriteFile(m.HBAPath(), []byte(c.hba()), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf of %s: %w", m.Name(), err)
	}
	return m.reloadAndWait(ctx, conn)
}

// reloadAndWait reloads the configuration the way pg_ctl reload does and
// waits until new sessions (as dbuser_dba over TCP: the harness runs as
// root, which Pigsty's ident rule for the socket does not let in) see it.
func (m *Member) reloadAndWait(ctx context.Context, conn *pgx.Conn) error {
	var before time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&before); err != nil {
		return fmt.Errorf("read pg_conf_load_time: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload configuration: %w", err)
	}
	return waitFor(ctx, "the reloaded configuration", func() (bool, error) {
		fresh, err := m.Admin(ctx)
		if err != nil {
			return true, err // the new rules shut the harness out
		}
		defer fresh.Close(context.Background())
		var t time.Time
		if err := fresh.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&t); err != nil {
			return false, err
		}
		return t.After(before), nil
	})
}

// hba is Pigsty's pg_default_hba_rules rendered for loopback (see
// pigsty-model.md §5.5): the "intra" and "infra" aliases become
// 127.0.0.0/8 and the admin address, "world" stays 0.0.0.0/0. When the
// test does not run as root, the server's OS user is not "postgres", so the
// dbsu rules trust the socket instead of ident.
func (c *Cluster) hba() string {
	dbsuAuth := "ident"
	if !c.acct.Switched {
		dbsuAuth = "trust"
	}
	lines := []string{
		"# pg_hba.conf: Pigsty's default rules for a loopback cluster (internal/testenv/patronienv).",
		"# dbsu access via local os user ident [default]",
		"local    all                postgres                              " + dbsuAuth,
		"# dbsu replication from local os ident [default]",
		"local    replication        postgres                              " + dbsuAuth,
		"# replicator replication from localhost [default]",
		"local    replication        replicator                            scram-sha-256",
		"host     replication        replicator         127.0.0.1/32       scram-sha-256",
		"host     replication        replicator         ::1/128            scram-sha-256",
		"# replicator replication from intranet [default]",
		"host     replication        replicator         127.0.0.0/8        scram-sha-256",
		"# replicator postgres db from intranet [default]",
		"host     postgres           replicator         127.0.0.0/8        scram-sha-256",
		"# monitor from localhost with password [default]",
		"local    all                dbuser_monitor                        scram-sha-256",
		"host     all                dbuser_monitor     127.0.0.1/32       scram-sha-256",
		"host     all                dbuser_monitor     ::1/128            scram-sha-256",
		"# monitor from infra host with password [default]",
		"host     all                dbuser_monitor     " + AdminIP + "/32       scram-sha-256",
		"# admin @ intranet with password [default]",
		"host     all                dbuser_dba         127.0.0.0/8        scram-sha-256",
		"# admin @ everywhere with ssl & pwd [default]",
		"hostssl  all                dbuser_dba         0.0.0.0/0          scram-sha-256",
		"hostssl  all                dbuser_dba         ::/0               scram-sha-256",
		"# pgbouncer read/write via local socket [default]",
		"local    all                +dbrole_readonly                      scram-sha-256",
		"host     all                +dbrole_readonly   127.0.0.1/32       scram-sha-256",
		"host     all                +dbrole_readonly   ::1/128            scram-sha-256",
		"# read/write biz user via password [default]",
		"host     all                +dbrole_readonly   127.0.0.0/8        scram-sha-256",
		"# allow etl offline tasks from intranet [default]",
		"host     all                +dbrole_offline    127.0.0.0/8        scram-sha-256",
	}
	return strings.Join(lines, "\n") + "\n"
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
