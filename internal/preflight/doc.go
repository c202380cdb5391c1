// Package preflight judges, before the daemon starts or takes a reloaded
// configuration, every file a configuration names: the trusted keys
// (allowed_signers that parse, OpenPGP keys that parse and are not all
// expired or revoked), the libpq files (a passfile with the permissions
// libpq demands and lines it can read, sslrootcert and sslcert that are
// PEM certificates, an sslkey that matches its certificate), the Git
// credentials (a token file that is not empty, an SSH key without a
// passphrase, a known_hosts with an entry for the source's host and port)
// and the HBA writer's SSH key and known_hosts. Every problem is reported
// in one run, each at the file:line:col of the key that names the file
// (internal/config keeps the positions). Keys that the source's URL or the
// HBA writer never use (auth.ssh_key on an https:// source) are warnings.
//
// It only reads: it opens no connection, contacts no Git or SSH server,
// and never puts a secret (a file's content) into a message. It does not
// know the spec, so it cannot tell whether known_hosts pins every database
// host: the HBA writer still refuses an unpinned host when it gets there.
//
// What it must not import: internal/dbconn, internal/inspect,
// internal/apply, internal/reconcile, or anything else that connects. It
// may import internal/config (the positions) and internal/source (to load
// trust files and read Git locations as the source will).
package preflight
