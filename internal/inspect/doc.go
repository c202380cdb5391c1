// Package inspect reads the live state of one PostgreSQL instance into a
// model.InstanceState: session facts, roles with memberships, settings,
// comments and passwords, databases with their ACLs and settings, server
// parameters joined with the configuration files, the HBA file and its
// parsed rules, replication clients, and, inside each managed database,
// schemas, extensions and default privileges.
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
// fields of settings stay empty. A managed database that cannot be entered
// does not lose the rest: Inspect returns the state with a *PartialError.
//
// What it does not do: it never writes (round trip 2 is a read-only
// transaction), it decides nothing about what is managed or ignored (pg_*
// roles, system databases and the owner's implicit default privileges are
// all reported; package diff filters), and it does not parse HBA lines or
// convert parameter values: the server's own views do.
package inspect
