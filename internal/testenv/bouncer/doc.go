// Package bouncer starts Debian's PgBouncer (1.18, /usr/sbin/pgbouncer)
// beside a test instance of package testenv, configured as Pigsty's
// pgbouncer.ini configures it: auth_type hba with auth_file userlist.txt
// and auth_hba_file pgb_hba.conf, the [users] and [databases] sections
// %include'd from useropts.txt and database.txt, admin_users the dbsu and
// dbuser_dba, stats_users the dbsu and dbuser_monitor, Pigsty's pool and
// limit settings, and client TLS (client_tls_sslmode disable or require,
// with the cluster's certificate).
//
// Each Bouncer listens on its server's loopback address on a port of its
// own, with its files, Unix socket, pid file and log in a directory inside
// the server's instance directory, and runs as the server's OS user
// (postgres when the test runs as root), a child of the test binary in its
// own process group with a parent-death signal.
//
// Departures from Pigsty's pgbouncer.ini, all forced by the test machine:
// paths under the Bouncer's directory instead of /etc/pgbouncer and
// /var/run/postgresql, listen_addr the server's address, and no
// max_prepared_statements (PgBouncer 1.21 and later; 1.18 refuses the
// line). Verbose and LogConnections are options (Pigsty's are 0), for the
// tests that read what the pooler logs.
//
// What it does not do: it does not render the files (tests write what
// package pgbouncer renders, with WriteFile), and it never touches the
// system's PgBouncer service or port 6432. A missing pgbouncer binary is an
// error naming scripts/install-deps.sh, never a skip.
package bouncer
