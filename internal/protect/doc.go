// Package protect is the protection policy, defined once: which roles a
// plan must never lock out or remove, and which an apply refuses to touch
// whatever the plan says. Package diff asks it while planning and reports
// (Action Report) what it refuses; package apply asks it again right before
// executing and refuses (StatusRefused) a change the policy forbids. Both
// ask the same functions with the same inputs, read from the change's
// intent (plan.RoleChange, plan.PasswordChange), never from SQL text.
//
// The roles it protects (Who): the reconciler's own login role(s), the
// dbsu (pg_dbsu), the replication user (pg_replication_username), the
// admin and monitor users (pg_admin_username, pg_monitor_username) and
// PostgreSQL's reserved pg_* roles. What it forbids:
//
//   - removal: of any of them;
//   - a new password: for the reconciler's own login (it would lock itself
//     out), the dbsu (Patroni and local tools hold it) and the replication
//     user (the replicas' Patroni holds the old one);
//   - attributes: NOLOGIN or NOSUPERUSER for the reconciler's login and the
//     dbsu, NOLOGIN or NOREPLICATION for the replication user, CONNECTION
//     LIMIT 0 for the reconciler's login when it is not a superuser, and a
//     VALID UNTIL in the past for it.
//
// Wording is left to the callers (a plan says "not planned: it is the role
// the reconciler logs in as", an apply "role x is the reconciler's own
// login role: …"). Protect is pure: it imports model and plan only, does
// no I/O and reads no clock (the time is an input).
package protect
