// Package gitenv builds git fixtures for tests with the real git, gpg and
// ssh-keygen binaries: work and bare repositories in temporary directories,
// commits signed with throwaway OpenPGP and SSH keys, hand-made commit
// objects (tampered payloads, spliced signatures), and an oracle that asks
// `git verify-commit` for its verdict on a commit.
//
// Every repository, key and GNUPGHOME lives in a directory that the test's
// cleanup removes; gpg-agents started for a GNUPGHOME are stopped with
// `gpgconf --kill all` at cleanup. git runs with HOME pointing at an empty
// temporary directory and without system or global configuration, so the
// developer's own git and gpg settings never leak into a test.
//
// What it does not do: it does not verify anything itself (that is package
// source's job), it never touches the network, and a missing binary fails
// the test rather than skipping it.
//
// What it must not import: pgreconciler's production packages (above all
// internal/source, whose verdicts its git oracle checks); only
// internal/testenv/sockdir.
package gitenv
