// Package model holds the plain Go values that every other package of
// pgreconciler speaks: what a spec repository declares (Desired, Cluster,
// Instance, Role, Database, HBARule …) and what a live PostgreSQL instance
// holds (InstanceState and its parts).
//
// The desired types follow Pigsty's data model field for field (its
// roles/pgsql/defaults/main.yml and the pg-user.sql and pg-db.sql templates
// beside it; docs/spec-reference.md): tri-state booleans are *bool, where
// nil means "the spec has no opinion"; defaults that Pigsty applies at
// render time (the "business user <name>" comment, pg_port 5432 …) are
// already resolved by the spec loader, so a model value is exactly what the
// spec asks for.
//
// Model does no I/O and has no behaviour beyond small accessors. Secrets
// are carried as Secret, whose String, GoString and JSON forms are
// redacted, so a secret cannot reach a log or a plan by accident.
//
// What it must not import: anything of pgreconciler's (every other package
// imports model, so model importing one would be a cycle or a leak of
// behaviour into the vocabulary); nor anything that does I/O (log/slog is
// there only for Secret's LogValue).
package model
