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
//   - Render: Pigsty's template (pigsty-model.md §5) minus the render time;
//     aliases, role gating, ordering, column layout.
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
// stay allowed is the caller's input); it renders only PostgreSQL's file,
// not PgBouncer's.
package hba
