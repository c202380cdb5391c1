// Package dbconn opens connections to the instances of a fleet: host =
// the instance's IP, port = its pg_port, and everything else (user,
// password, passfile, sslmode, sslrootcert, connect timeout …) from the
// standard libpq environment variables, as psql would, optionally
// overridden per cluster by the daemon's configuration.
//
// Every session it opens says who it is (application_name "pgreconciler",
// "pgreconciler@<commit12>" once a commit is known, so the server's own
// logs name the source of every statement), keeps TCP keepalives on at
// both ends (the server drops a vanished reconciler's session, and its
// advisory lock, within about 90 s) and bounds waits with
// lock_timeout and statement_timeout. These are the session's own values:
// package inspect judges parameters by the server's, whatever a session
// sets for itself. Connection errors never carry the password.
//
// ConnectConsole opens a session to the admin console of the PgBouncer
// beside an instance with the same user and TLS settings, and only
// application_name (PgBouncer refuses startup parameters it does not know).
//
// It does not pool: the reconciler's work is a few sessions per instance
// per cycle.
//
// What it must not import: pgreconciler's packages other than
// internal/model. It opens sessions and nothing else: what runs on them is
// inspect's and apply's business, and they import it, not the other way
// round.
package dbconn
