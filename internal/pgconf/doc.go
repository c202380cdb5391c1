// Package pgconf knows how PostgreSQL reads server parameter values, so
// that diff and apply can compare a desired value with a live one and
// refuse a value before the server does.
//
// Every function works from a server's own pg_settings row
// (model.LiveSetting: type, unit, range, enum values, context), never from
// a built-in catalogue of parameters: Normalize gives the value exactly as
// pg_settings.setting would show it ("1GB" for shared_buffers is 131072 in
// 8kB blocks, "On" for a bool is "on"), reproducing guc.c's parsing and
// rounding; Equal compares two values that way; Validate makes ALTER
// SYSTEM's checks with PostgreSQL's wording; QuoteValue writes the SQL
// literal for ALTER SYSTEM SET, one literal per element for the list
// parameters PostgreSQL quotes element by element; RequiresRestart,
// Reloadable and friends read the parameter's context.
//
// Fixed knowledge is limited to what pg_settings does not expose and is
// checked against a real server of every major from 13 to 18 by the
// oracle test (`make test` runs it on each): which string parameters are
// GUC_LIST_QUOTE lists (unix_socket_directories from 14,
// oauth_validator_libraries in 18), the keywords quote_identifier() quotes
// (more in 16 and 17), the wording of range errors (with units from 17),
// the one visible enum synonym (wal_compression "on" shown as "pglz"; the
// display of every visible value is checked for the enums a session can
// set, acceptance only for the others) and 13's Boolean spellings of
// password_encryption (md5), PostgreSQL 18's log_connections aspects ("on"
// is receipt, authentication and authorization: Equal compares aspects,
// Validate makes the check hook's refusals), and the parameters whose
// values may hold a credential (MaySecret), which the oracle test checks
// are plain string parameters, so that no refusal quotes them. The rules
// are those of the server a setting was read from (model.LiveSetting's
// Version; a row made by hand reads as PostgreSQL 15).
//
// What it does not do: no I/O and no SQL execution; no check hooks (time
// zones, tablespaces, library files, DateStyle's rewriting to "ISO, MDY"
// are the server's business, and such strings compare as written); no
// hidden enum spellings other than the Boolean ones; no path
// canonicalisation inside directory lists; no decision about when to
// reload or restart.
//
// What it must not import: pgreconciler's packages other than
// internal/model, and nothing that reaches a server (pgx, internal/dbconn,
// internal/inspect): it works from the pg_settings row it is given, so diff
// can use it and stay pure.
package pgconf
