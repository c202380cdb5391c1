// Package inspect reads the live state of one PostgreSQL instance into a
// model.InstanceState: session facts, roles with memberships, settings,
// comments and passwords, databases with their ACLs and settings, server
// parameters joined with the configuration files, the HBA file and its
// parsed rules, replication clients, the client sessions open now
// (pg_stat_activity with pg_stat_ssl, grouped by user, database, address,
// SSL and application, capped, for the plan's impact preview), the objects
// each role owns (pg_shdepend), and, inside each managed database,
// schemas, extensions and default privileges.
//
// Settings are the server's, not the inspecting session's: where
// pg_settings.source says the session runs a value of its own (its
// startup packet, SET, ALTER ROLE or ALTER DATABASE … SET), the server's
// value is worked out from the postmaster's command line
// (postmaster.opts), the configuration files (pg_file_settings) and
// boot_val, and model.LiveSetting.Unknown says why when it cannot be.
// ReadSetting does the same for one parameter, for apply's read-back.
//
// The number of round trips does not depend on how many objects there are:
// one small query for the session (who we are and what we may read), one
// pgx.Batch of flat catalog queries, then one batch per managed database,
// entered a few at a time. Rows are scanned into typed values and joined in
// Go. The SQL lives in sql/*.sql and can be pasted into psql.
//
// Privileges decide what is read, never whether the inspection works: a
// session that cannot read pg_authid gets roles from pg_roles
// (AuthidReadable false, passwords zero); without access to
// pg_hba_file_rules the HBA is nil; without pg_file_settings the File*
// fields of settings stay empty, and the server's value of a setting the
// session runs a value of its own for is Unknown (so too without
// postmaster.opts). A managed database that cannot be entered does not
// lose the rest: Inspect returns the state with a *PartialError.
//
// InspectPooler does the same for the PgBouncer beside an instance
// (pooler.go): SHOW VERSION, SHOW CONFIG, SHOW USERS and SHOW DATABASES
// on its admin console (pgx's simple protocol, one command per round trip),
// and its four files through a reader the caller gives (the one that
// reaches the host for pg_hba.conf), into a model.PoolerState.
//
// What it does not do: it never writes (round trip 2 is a read-only
// transaction), it decides nothing about what is managed or ignored (pg_*
// roles, system databases and the owner's implicit default privileges are
// all reported; package diff filters), and it does not parse HBA lines:
// the server's own views do. A server value taken from the files or the
// command line is normalised with package pgconf, as pg_settings would
// show it.
//
// What it must not import: internal/apply (inspection never writes),
// internal/diff, internal/spec, internal/source, internal/drift,
// internal/reconcile, and internal/dbconn (it is given an open session). It
// may import internal/model and internal/pgconf.
package inspect
