// Package diff compares what a spec declares with what live PostgreSQL
// instances hold and returns the Plan that converges them.
//
// Cluster is a pure function of values: (desired cluster, live state of its
// instances, options) → plan.ClusterPlan. It takes no context, logger,
// clock or connection; "today" for expire_in comes from the primary's
// server clock in the live state, so the same inputs always give the same
// plan.
//
// Pigsty's semantics (its roles/pgsql/templates/pg-user.sql and pg-db.sql,
// and its role removal procedure):
//   - attributes are tri-state: a nil field is "no opinion" and never
//     produces a change;
//   - memberships and default privileges are additive: only a membership
//     with state revoke/absent is revoked, nothing undeclared is removed;
//   - roles are removed only by state: absent, with Pigsty's drop procedure
//     (NOLOGIN, terminate sessions, REASSIGN OWNED and DROP OWNED in every
//     database the plan does not drop, DROP ROLE); a role that owns a
//     database is reported, not dropped; live roles the spec does not
//     mention are reported as unmanaged, with no statements;
//   - every declared database holds the privileges Pigsty's pg-db.sql
//     gives it (CREATE on the database and on schema public revoked from
//     PUBLIC and granted to dbrole_admin, ALL to a declared owner,
//     revokeconn), and postgres's schema public what pg-init-template.sql
//     leaves (no CREATE for PUBLIC); compared privilege by privilege with
//     the live ACLs, grants to roles that will not exist left out;
//   - comments default to "business user <name>" / "business database
//     <name>" (the spec loader applies the default);
//   - expire_in does not churn: the role is in sync while its live expiry
//     lies within one day of today + N days (UTC days of the primary's
//     clock); expire_at compares the UTC day; both are written as UTC
//     midnight;
//   - parameters compare after unit normalisation (package pgconf), and
//     against the value written in postgresql.auto.conf when a restart is
//     pending;
//   - passwords compare without plaintext: a verifier in the spec must equal
//     the stored one, a plaintext password is checked by recomputing the
//     stored SCRAM verifier with its salt and iterations, an md5 hash stored
//     while pg_pwd_enc is scram-sha-256 is drift, and an unreadable
//     pg_authid makes the password "unknown", never "in sync";
//   - pg_hba.conf is compared per instance, semantically and in order, with
//     the rendered desired file; error rows are drift.
//
// Every change carries its intent as data (the role and the attributes it
// sets, the membership, the database and its options …, see package
// plan); diff decides the intent and its display text (Before, After,
// Reason), and its statements are rendered from the intent by
// plan.Change.Render, so diff spells no SQL itself.
//
// Lockout guard at plan time, by the protection policy the executor also
// applies (package protect): nothing may lock out the dbsu or the
// reconciler's own login role, so NOLOGIN, NOSUPERUSER or a new password
// for them, CONNECTION LIMIT 0 for the reconciler's role when it is not a
// superuser, and a VALID UNTIL in the past for it, is reported (Action
// Report, with the refused attributes as its intent), never planned as a
// statement. Nor may the replicas lose their stream: NOLOGIN,
// NOREPLICATION or a new password for the replication user is reported
// too (Patroni on the replicas holds its password). The system users are
// never dropped; built-in pg_* roles never get statements.
//
// Impact preview (impact.go, impact_roles.go): every planned change is
// held against the clients connected at inspection (the state's Clients,
// its walsenders, the reconciler's own session). Where an instance's
// pg_hba.conf or its roles' memberships change, each client is run through
// the live rules with today's memberships and through the new rules with
// the memberships after the plan (package hba's first match): one accepted
// today and rejected after, or made to switch method, is listed, grouped by
// user, network (/24, /64), SSL and the two deciding lines. NOLOGIN, a past
// VALID UNTIL, a CONNECTION LIMIT below the sessions open, a dropped role
// (its sessions, its objects), a revoked membership and a revoked CONNECT
// are held against the sessions of the roles they touch. The result is the
// change's plan.Impact, capped, with totals; CutsOff marks what cuts off
// live clients.
//
// A server parameter value that may hold a credential (pgconf.MaySecret:
// primary_conninfo, archive_command …) is never shown in a plan: Before and
// After say model.Redacted, and the ALTER SYSTEM statement carries the
// value in its Password.
//
// Diff does not execute anything (package apply does), does not validate
// the spec (package spec) and does not read the catalog (package inspect).
//
// What it must not import: any package that does I/O, and no clock, logger
// or context: internal/inspect, internal/apply, internal/dbconn,
// internal/source, internal/spec, internal/drift, internal/reconcile, os,
// log/slog, context; of pgx it uses pgx.Identifier's quoting only
// (TestLayering in cmd/reconciler holds part of this). It may import
// internal/model, internal/plan, internal/pgconf, internal/hba,
// internal/privs and internal/scram, which do no I/O of their own.
package diff
