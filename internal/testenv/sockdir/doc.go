// Package sockdir makes temporary directories short enough to hold unix
// sockets.
//
// A unix socket's path must fit in sockaddr_un (107 bytes and a NUL on
// Linux). A TMPDIR under a deep checkout (/home/alice/src/…/pgreconciler/.demo)
// or a nested t.TempDir easily exceeds that, and then PostgreSQL cannot
// create .s.PGSQL.<port> and gpg-agent cannot create S.gpg-agent. New puts
// such directories in os.TempDir() when it is short enough and in /tmp
// otherwise, so the harness works wherever TMPDIR and the checkout are.
//
// What it does not do: it does not remove the directories it makes (the
// caller does, with everything in them), and it does not watch what the
// caller puts below them: names longer than Room fail at bind time (Check
// says so beforehand).
//
// What it must not import: anything of pgreconciler's; internal/testenv and
// internal/testenv/gitenv import it.
package sockdir
