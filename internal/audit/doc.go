// Package audit produces compliance evidence for auditors: the controls of
// Pigsty's security reference (MLPS Level 3 requirements and SOC 2 control
// points, pigsty-security-compliance.txt) judged on the live servers, and
// the chain of custody of every change the change logs record.
//
// What it does:
//
//   - Controls (controls.go) are the reference's table as data: id, framework,
//     name, whether Pigsty's defaults meet it, the reference's description,
//     and the checks that decide it. Checks (checks.go) are pure functions of
//     one instance's Evidence and the spec of its cluster: pass, fail, not
//     applicable or unknown, always with why and with the facts (settings,
//     HBA lines, catalog rows, certificate fields) that decide it. A check
//     has a level; the profile (baseline: what Pigsty's defaults meet;
//     strict: everything; none) says which checks are required.
//   - Collector reads the Evidence of an instance: round trip 1 learns who
//     it is and what it may read, round trip 2 is one batch of the embedded
//     sql/*.sql it is allowed to run (a query that fails anyway is retried
//     alone, so one failure loses one part). Privileges decide what is read,
//     never whether the audit works: without superuser, password types and
//     HBA rules are unknown, with why. The password column never leaves the
//     server: the SQL returns only the hash type. The server certificate is
//     read through a TLS handshake of the collector's own (SSLRequest),
//     whatever the sessions' sslmode, and checked against the instance's
//     address and, when given, root CAs.
//   - TraceCustody matches a period's change-log rows to their commits in the
//     spec repository and verifies each commit's signature again, today,
//     with package source (the same code and trusted keys as the history
//     check): rows whose commit is missing, unsigned, untrusted, signed by
//     someone other than the row says, or not in the audited history, and
//     observed rows (changes made outside the reconciler), are findings.
//     Custody's documentation defines a reviewed change.
//   - Run ties it together for a fleet; Report is the result, written as a
//     self-contained HTML page (inline styles, no script, nothing fetched,
//     printable), markdown or JSON with the same content.
//
// The daemon runs Run every audit.interval and exports ControlStatus as
// pgreconciler_control_status (package daemon, audit.go).
//
// What it does not do: it never writes (the change log's observed rows are
// written by package apply, for the daemon, when it heals an out-of-band
// change: daemon/observed.go), it reads PgBouncer only through the
// Collector.Pooler hook (PoolerFrom: the admin console, with package
// inspect, and pgb_hba.conf through a file reader it is given) and
// Patroni only through the Collector.Patroni hook (PatroniFrom: each
// member's REST API with package patroni, GETs and a probe that changes
// nothing; unset, Patroni's checks are unknown; never patroni.yml nor the
// DCS), and it does not see what
// lies outside PostgreSQL: firewalls, SELinux, disk encryption, alert
// routing and backups other than WAL archiving are named as unjudged in
// the controls they belong to.
package audit
