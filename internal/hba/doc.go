// Package hba knows pg_hba.conf: it renders the file an instance must
// have from Pigsty-style HBA rules, checks rules for the spec validator,
// parses a file's text (or pg_hba_file_rules rows) into semantic lines,
// compares desired and live lines in order, and simulates PostgreSQL's
// first-match decision for a connection, the engine of the lockout guard.
//
// Everything follows PostgreSQL 15 (src/backend/libpq/hba.c), checked
// against a real server of every major from 13 to 18 by this package's
// oracle test, which lists what the others read differently: 13 has no
// clientname option and no continuation lines and still takes
// clientcert=1; 18 adds the oauth method (which Parse does not know yet).
//
//   - Render: Pigsty's template (roles/pgsql/templates/pg_hba.conf) minus
//     the render time; aliases, role gating, ordering, column layout.
//   - CheckAddr, CheckAuth, CheckRule, ParseRawLine: validation of rule
//     objects and raw lines, with warnings (*Warning) kept apart from
//     errors; CheckCIDR and CheckIP for the globals the intra and admin
//     aliases render (node_firewall_intranet, admin_ip).
//   - RedactText: a raw line as written with secret option values
//     (ldapbindpasswd, radiussecrets) hidden, for messages; Line.String
//     does the same for a parsed line.
//   - Parse, FromRow, RowError, Equal, Line.Key: PostgreSQL's tokenizer
//     (quotes, comma lists, comments, backslash continuation, which 15
//     supports) and parse_hba_line's checks; addresses normalised to
//     prefixes, ident on local read as peer, options normalised to what
//     pg_hba_file_rules shows, rows PostgreSQL rejected silently detected.
//   - Compare: an order-sensitive diff of desired and live lines.
//   - Match, Allowed: check_hba's first match, with "cannot decide" for
//     samehost, samenet, host names and @file.
//
// The package is pure: no I/O, no database, no logging, no clock. It does
// not read or write pg_hba.conf, reload PostgreSQL, expand @file
// references, resolve host names, or decide policy (which connections must
// stay allowed is the caller's input).
//
// PgBouncer's pgb_hba.conf is the same format, rendered by Pigsty's
// pgbouncer.hba template from the same rule objects: RenderPgBouncer,
// CheckPgBouncerRule, ParsePgBouncerLine and ParsePgBouncer are the
// functions above for it, with PgBouncer's auth mapping (os and ident are
// peer) and only the subset of the format PgBouncer 1.18 reads as
// PostgreSQL does (pgbouncer.go); Match and Allowed decide for it as they
// do for PostgreSQL, which is exact on that subset.
//
// What it must not import: pgreconciler's packages other than
// internal/model, and nothing that does I/O (internal/dbconn,
// internal/inspect, internal/apply, internal/source, pgx, os): spec, diff
// and apply's lockout guard call it, and spec and diff must stay free of
// I/O.
package hba
