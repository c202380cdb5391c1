// Package chaos holds the fault suite of issue #18: the reconciler's
// `apply` against a real PostgreSQL while it is killed (SIGKILL) at a
// random point of a large apply, while the server is killed or restarted,
// while a TCP proxy (internal/testenv/faultproxy) cuts its connections,
// and with its state directory on a full tmpfs. After each fault the same
// invariants are checked: nothing half-written (pg_hba.conf, the server's
// configuration files, the state directory), the live roles equal what
// the change log records as applied, the next run converges (a second
// plan is empty), and no password of the spec appears in any output (the
// reconciler's, the plan's, the server log, the change log).
//
// `make test` runs each fault once on a small spec; `make test-chaos`
// runs CHAOS_ITERATIONS (seeded: CHAOS_SEED, printed by every iteration,
// reproduces one) on a large one (CHAOS_ROLES). docs/faults.md is the
// index of the fault and hostile-input cases and their tests.
//
// The package has no code outside its tests.
package chaos
