// Package sshd starts a real OpenSSH server (Debian's /usr/sbin/sshd) for
// integration tests of code that reaches PostgreSQL hosts over SSH.
//
// Each Server listens on 127.0.0.1 on a random port, with fresh host keys
// (ed25519 and ecdsa by default), key-only authentication for one client
// key made by the harness, and known_hosts files for the client side:
// KnownHostsFile pins only the ed25519 key (the setup that trips x/crypto's
// default host key algorithm order), KnownHostsAllFile pins every key.
// RotateHostKeys restarts it with new host keys, for "changed host key is
// refused" tests.
//
// sshd must run as root to log a key in as the postgres user (UsePAM yes
// because Debian locks that account). Start skips the test when not root;
// that is the only skip. A missing sshd is an error naming
// scripts/install-deps.sh.
//
// What it does not do: password or keyboard-interactive authentication,
// fault injection (slow or failing file writes) or anything on port 22; it
// never touches the system's sshd configuration, only creates the
// privilege-separation directory /run/sshd when it is missing.
//
// What it must not import: pgreconciler's production packages; only
// internal/testenv (for a free port). The SSH client code under test lives
// in internal/apply and internal/source.
package sshd
