// Package apply executes the Plan of one cluster against its live
// PostgreSQL instances and reports what became of every change as a
// plan.Result.
//
// What it does:
//
//   - One writer per cluster: a session-level advisory lock (LockKey) on a
//     dedicated primary session. AcquireLock takes it (a second reconciler
//     gets ErrBusy) and package reconcile holds it from before the
//     inspection to the end of the apply; Apply requires it (Options.Lock)
//     and never takes it itself.
//   - Cluster-wide SQL (roles, memberships, comments, role settings,
//     databases, schemas, extensions, default privileges) runs on the
//     primary: consecutive changes for one database share a transaction,
//     up to Options.MaxTxChanges (1,000) of them, so that a run of tens of
//     thousands of roles never exhausts the server's lock table, each
//     transaction sent as one pipelined multi-statement query. When it fails, the
//     transaction is rolled back to a savepoint and the run is redone around
//     the failing change, so that exactly the failing changes are rolled
//     back and recorded (StatusFailed with SQLSTATE) and the others commit.
//     When the transaction itself is lost (the server rejected the whole
//     message, e.g. invalid UTF-8, or the session ended), the change at
//     fault is found (by halving the run when the server cannot say),
//     recorded with its own error, and the others run again on a new
//     session. A statement holding a NUL byte is never sent.
//   - Changes PostgreSQL cannot run in one transaction (CREATE/DROP
//     DATABASE, statements in several databases, the role removal
//     procedure) run as ordered steps and stop at the first failing step.
//   - Passwords: a plaintext becomes a SCRAM-SHA-256 verifier (or an md5
//     hash) here; only the hash is sent, in a transaction that switches
//     statement logging and pg_stat_statements' utility tracking off first.
//     The apply's other statements are logged by the server as configured,
//     but kept out of pg_stat_statements when the session may (superuser):
//     tens of thousands of one-off DDL statements would evict the
//     application's entries.
//   - Guards that hold whatever the plan says, reading each change's
//     intent (plan.RoleChange, plan.PasswordChange …), never its SQL text,
//     and asking the protection policy the diff plans with (package
//     protect): protected roles (dbsu, replicator, admin, monitor, pg_*,
//     the reconciler's own login) are never removed; the reconciler's own
//     role, the dbsu and the replication user never get a new password;
//     none of them loses LOGIN, the reconciler's own role and the dbsu not
//     SUPERUSER, the replication user not REPLICATION; the reconciler's own
//     role gets no CONNECTION LIMIT 0 (unless a superuser) and no VALID
//     UNTIL in the past; a role owning a database is never dropped. A role
//     change or removal, or a password change, whose intent is missing
//     cannot be judged and is refused.
//   - Parameters per instance: the server's own pg_settings row validates
//     the value (and the library files of shared_preload_libraries) right
//     before ALTER SYSTEM; one reload per instance; a read-back proves the
//     server's value (inspect.ReadSetting, not the apply session's own)
//     live, or pending a restart.
//   - pg_hba.conf per instance through an HBAWriter (local file or SSH):
//     lockout guard before writing, pg_hba_file_rules check before the
//     reload (the previous file is restored on any error row), a fresh
//     login after the reload (the previous file is restored and reloaded if
//     it fails).
//   - The four files of the PgBouncer beside an instance (pooler.go), all
//     of an instance's PgBouncer changes at once, after the role changes:
//     rendered again from pg_authid, the pooler's lockout guard, atomic
//     writes with the same HBAWriter (userlist.txt 0600), RELOAD through
//     the admin console, fresh logins and the admin console's view checked
//     against the files (the previous files restored and reloaded if not).
//   - A change log table (pgreconciler.change_log) in the primary's postgres
//     database, one row per applied, failed or refused change, with the
//     commit, signer and author, the error with its SQLSTATE; statements
//     are redacted, NUL and invalid UTF-8 escaped as \xNN. LastApplied
//     reads back the newest applied commit (sql/last_applied.sql): the
//     floor of the rewind check. A change that cannot share a transaction
//     with its row (CREATE/DROP DATABASE, a change in another database)
//     gets a pending row first (intent.go), which the next run settles
//     under the lock, before it inspects.
//   - Dry run: logs what would run, connects to nothing, writes nothing.
//
// Its catalog reads are fresh reads right before the write they guard, in
// embedded sql/*.sql files (queries.go) that can be pasted into psql; the
// advisory lock's two calls stay in lock.go.
//
// What it does not do: it does not compute plans (package diff) or read
// the live state (package inspect), never restarts a server, never retries a
// failed change (the next cycle re-plans from live state), does not
// re-discover the primary after a failover mid-apply (it refuses to start
// when the primary it is given is in recovery), and never logs, returns
// or stores a password or password hash.
package apply
