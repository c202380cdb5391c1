// Package privs parses Pigsty's pg_default_privileges clauses ("GRANT
// SELECT ON TABLES TO dbrole_readonly"), which the spec checks validate and
// the diff expands into the default ACL it expects. It only parses.
//
// What it must not import: anything of pgreconciler's. Both internal/spec
// and internal/diff import it, so that a clause means the same when it is
// checked and when it is compared; it must stay free of I/O for diff's
// sake.
package privs
