// Package patronienv starts real Patroni-managed PostgreSQL 15 clusters for
// integration tests: an etcd (Debian's etcd-server, API v3) and two or three
// Patroni members (Debian's patroni 3.0.2), configured the way Pigsty
// configures them.
//
// Each member listens on its own loopback address (127.0.0.1, 127.0.0.2 …),
// PostgreSQL on one port and Patroni's REST API on another, both shared by
// every member as Pigsty's pg_port and patroni_port are. Every member's
// patroni.yml has the shape of Pigsty's oltp.yml template: namespace /pg/,
// the scope is the cluster name and the member name its pg_instance,
// REST basic auth (APIUser/APIPassword, Pigsty's patroni_username and
// patroni_password) and restapi.allowlist (Pigsty's pg_allow_list: the admin
// address 127.0.0.1 and the members), the REST API on https with the
// cluster's CA when Options.SSL (patroni_ssl_enabled), replicator as the
// replication and rewind user, pg_rewind on, no pg_hba section. Like
// Pigsty's pgsql play, the harness itself writes Pigsty's default
// pg_hba.conf on the leader after bootstrap and creates the system roles
// dbuser_dba and dbuser_monitor (random passwords); the replicas clone both.
// PostgreSQL has SSL on with a certificate from a throwaway CA
// (CACertFile), logs every statement to the member's log, and gets
// Patroni's command-line parameters (max_connections, wal_level …) from the
// DCS.
//
// The DCS timings are short (ttl 20 s, loop_wait 2 s) and
// primary_start_timeout is 0, so Member.KillPostmaster on the leader is a
// failover within a few seconds; Cluster.Switchover runs patronictl.
// Cluster.View, WaitHealthy and the rest read the REST API with a few lines
// of their own, independent of internal/patroni, the client they test.
//
// When run as root every program runs as the "postgres" OS user. Patroni
// and etcd are children of the test binary in their own process groups
// with a parent-death signal (SIGTERM for Patroni, which then stops
// PostgreSQL; PostgreSQL itself runs in a session of its own, as Patroni
// starts it); Close stops the members replicas first, then etcd, and kills
// whatever still works in the cluster directory. Directories left by a
// killed test binary are removed by the next Start.
//
// Starting takes seconds (a Python daemon per member, initdb, a
// pg_basebackup per replica), so share one cluster per test package: Start
// in TestMain, Close at the end. Tests that switch over or fail over leave
// another member leading; use Cluster.Leader rather than the first member.
//
// What it does not do: etcd runs without TLS and authentication (Pigsty's
// has both; the reconciler never talks to the DCS), there is no watchdog,
// callbacks, pgBackRest or HAProxy, and it never touches the system's own
// PostgreSQL, Patroni or etcd services or ports 5432, 8008 and 2379.
// A missing program is an error naming scripts/install-deps.sh, never a
// skip.
package patronienv
