// Package runas runs the test harnesses' server programs (PostgreSQL,
// Patroni, etcd) as the right OS user and cleans up after them.
//
// When the test runs as root, programs run as the "postgres" OS user
// (postgres refuses to run as root) and the files they own are chowned to it;
// otherwise everything runs as the current user. Commands get their own
// process group, an optional parent-death signal and an environment without
// the caller's libpq, locale and home variables. ProcessesIn finds the
// processes working below a directory (servers chdir to their data
// directory), so a harness can wait for or kill the children of a server
// that is already gone. NewDir makes a harness directory short enough for
// unix sockets and first removes the directories of test binaries that were
// killed before they could.
//
// What it does not do: it does not create OS users, read ACLs or
// supplementary groups (CanReach checks owner, group and mode only), or
// touch anything outside the directories it is given.
package runas
