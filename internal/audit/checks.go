package audit

import (
	"path"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Check is one judgement of the live servers: a pure function of the
// evidence of an instance (and the spec that describes it).
type Check struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Level is the profile that requires the check.
	Level Level `json:"level"`
	// PrimaryOnly checks are judged on the primary (the change log, the
	// archive, replication); replicas get n/a.
	PrimaryOnly bool `json:"primary_only,omitempty"`
	// Beside checks judge evidence read beside PostgreSQL (Patroni's REST
	// API): an instance that could not be read is judged all the same.
	Beside bool `json:"beside,omitempty"`
	judge  func(*Subject) Verdict
}

// Subject is what a check judges: one instance's evidence, the spec of its
// cluster, and, for the primary, the cluster's chain of custody.
type Subject struct {
	Cluster  *model.Cluster
	Instance *model.Instance
	Evidence *Evidence
	Custody  *Custody // nil when no period was audited
	Limits   Limits
}

// Limits are the thresholds the checks judge against.
type Limits struct {
	// CertMinValid is how long the server certificate must still be valid;
	// default 30 days.
	CertMinValid time.Duration
	// ArchiveMaxAge is how old the last archived WAL segment may be on a
	// primary; default 24 hours (Pigsty's archive_timeout is 5 minutes, so
	// a primary with any write traffic archives far more often).
	ArchiveMaxAge time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.CertMinValid <= 0 {
		l.CertMinValid = 30 * 24 * time.Hour
	}
	if l.ArchiveMaxAge <= 0 {
		l.ArchiveMaxAge = 24 * time.Hour
	}
	return l
}

// Checks returns every check, in report order. The result is a fresh copy.
func Checks() []Check {
	return []Check{
		{ID: "roles-declared", Title: "every login role on the server is declared in the spec", Level: LevelBaseline, judge: judgeRolesDeclared},
		{ID: "password-encryption", Title: "password_encryption is scram-sha-256", Level: LevelBaseline, judge: judgePasswordEncryption},
		{ID: "login-verifiers", Title: "no login role has an md5 or plaintext password", Level: LevelBaseline, judge: judgeLoginVerifiers},
		{ID: "password-check", Title: "passwordcheck or credcheck is loaded (password complexity)", Level: LevelStrict, judge: judgePasswordCheck},
		{ID: "login-expiry", Title: "login roles expire (rolvaliduntil) as expire_in / expire_at ask", Level: LevelStrict, judge: judgeLoginExpiry},
		{ID: "auth-failures-logged", Title: "failed logins reach the server log", Level: LevelBaseline, judge: judgeAuthFailuresLogged},
		{ID: "auth-delay", Title: "auth_delay slows down password guessing", Level: LevelStrict, judge: judgeAuthDelay},
		{ID: "hba-cert", Title: "client certificate (cert) rules are in force where the spec asks for them", Level: LevelStrict, judge: judgeHBACert},
		{ID: "hba-no-trust-tcp", Title: "no HBA rule lets a TCP client in without authentication (trust)", Level: LevelBaseline, judge: judgeNoTrustTCP},
		{ID: "hba-as-declared", Title: "the HBA rules in force are the ones the spec renders", Level: LevelBaseline, judge: judgeHBAAsDeclared},
		{ID: "privileged-roles", Title: "superuser, CREATEROLE, BYPASSRLS, REPLICATION and server-file roles are held only as the spec declares", Level: LevelBaseline, judge: judgePrivilegedRoles},
		{ID: "role-tiers", Title: "the tiered roles exist as declared and login roles hold only declared tiers", Level: LevelBaseline, judge: judgeRoleTiers},
		{ID: "ssl-on", Title: "ssl is on", Level: LevelBaseline, judge: judgeSSLOn},
		{ID: "ssl-min-protocol", Title: "ssl_min_protocol_version is TLSv1.2 or later", Level: LevelBaseline, judge: judgeSSLMinProtocol},
		{ID: "server-certificate", Title: "the server certificate is valid, not about to expire, and names the instance's address", Level: LevelBaseline, judge: judgeServerCertificate},
		{ID: "hba-admin-ssl", Title: "the admin user reaches the server from outside the intranet only over SSL", Level: LevelBaseline, judge: judgeAdminSSL},
		{ID: "hba-ssl-required", Title: "every non-loopback TCP rule requires SSL (hostssl) or rejects", Level: LevelStrict, judge: judgeSSLRequired},
		{ID: "pgbouncer-tls", Title: "PgBouncer requires TLS from clients", Level: LevelStrict, judge: judgePoolerTLS},
		{ID: "pgbouncer-auth", Title: "PgBouncer authenticates every TCP client with scram-sha-256 or a certificate (auth_type, pgb_hba.conf)", Level: LevelBaseline, judge: judgePoolerAuth},
		{ID: "data-checksums", Title: "data checksums are enabled", Level: LevelBaseline, judge: judgeDataChecksums},
		{ID: "storage-encryption", Title: "data is encrypted at rest (pg_tde, pgsodium)", Level: LevelStrict, judge: judgeStorageEncryption},
		{ID: "log-statement", Title: "log_statement records DDL (ddl, mod or all)", Level: LevelBaseline, judge: judgeLogStatement},
		{ID: "log-connections", Title: "log_connections records every connection (crit template)", Level: LevelStrict, judge: judgeLogConnections},
		{ID: "log-disconnections", Title: "log_disconnections is on (crit template)", Level: LevelStrict, judge: judgeLogDisconnections},
		{ID: "log-lock-waits", Title: "log_lock_waits is on", Level: LevelBaseline, judge: judgeLogLockWaits},
		{ID: "log-replication-commands", Title: "log_replication_commands is on", Level: LevelBaseline, judge: judgeLogReplicationCommands},
		{ID: "log-min-duration-statement", Title: "slow statements are logged (log_min_duration_statement 0 to 100 ms)", Level: LevelBaseline, judge: judgeLogMinDuration},
		{ID: "pgaudit", Title: "pgaudit, when loaded, logs DDL and role changes", Level: LevelStrict, judge: judgePgaudit},
		{ID: "log-file-mode", Title: "log files are not readable by others (log_file_mode)", Level: LevelBaseline, judge: judgeLogFileMode},
		{ID: "wal-archiving", Title: "WAL is archived, recently and without failures (pg_stat_archiver)", Level: LevelBaseline, judge: judgeWALArchiving},
		{ID: "listen-addresses", Title: "the server listens only where the network controls expect", Level: LevelBaseline, judge: judgeListenAddresses},
		{ID: "monitoring", Title: "the monitor user can read statistics (pg_monitor) and pg_stat_statements is loaded", Level: LevelBaseline, judge: judgeMonitoring},
		{ID: "replicas-streaming", Title: "every replica of the spec streams from the primary", Level: LevelBaseline, PrimaryOnly: true, judge: judgeReplicasStreaming},
		{ID: "patroni-failover", Title: "Patroni can fail over automatically (not paused, a leader, a replica that can be promoted)", Level: LevelBaseline, Beside: true, judge: judgePatroniFailover},
		{ID: "patroni-rest-auth", Title: "Patroni's REST API lets the admin node in (allowlist) and requires credentials for its unsafe endpoints", Level: LevelBaseline, Beside: true, judge: judgePatroniRESTAuth},
		{ID: "patroni-rest-ssl", Title: "Patroni's REST API is served over https (patroni_ssl_enabled)", Level: LevelStrict, Beside: true, judge: judgePatroniRESTSSL},
		{ID: "change-custody", Title: "every change in the period came from a signed commit, and none was made outside the reconciler", Level: LevelBaseline, PrimaryOnly: true, judge: judgeChangeCustody},
	}
}

// Judge judges one subject: unknown when the instance could not be read,
// n/a on a replica for a primary-only check, else the check's verdict.
func (c Check) Judge(subject *Subject) Verdict {
	s := *subject
	s.Limits = s.Limits.withDefaults()
	switch e := s.Evidence; {
	case e == nil:
		return unknown("no evidence was collected")
	case c.Beside:
	case e.Err != "":
		return unknown("%s", e.Err)
	case c.PrimaryOnly && e.Session.InRecovery:
		return notApplicable("judged on the primary; this instance is in recovery")
	}
	return c.judge(&s)
}

// setting returns a setting the server runs, or an unknown verdict when it
// was not read or only the collector's own session value is known.
func (s *Subject) setting(name string) (Setting, *Verdict) {
	st, ok := s.Evidence.Settings[name]
	switch {
	case !ok && len(s.Evidence.Settings) == 0:
		v := unknown("the server's settings were not read: %s", s.Evidence.Unread["settings"])
		return st, &v
	case !ok:
		v := unknown("the server has no parameter %s", name)
		return st, &v
	case st.Unknown != "":
		v := unknown("%s: %s", name, st.Unknown)
		return st, &v
	}
	return st, nil
}

// libraries returns the library names of a *_preload_libraries value:
// quotes, $libdir/, directories and .so suffixes removed.
func libraries(value string) []string {
	var out []string
	for _, l := range strings.Split(value, ",") {
		l = strings.Trim(strings.TrimSpace(l), `"`)
		if l == "" {
			continue
		}
		l = strings.TrimSuffix(path.Base(l), ".so")
		out = append(out, l)
	}
	return out
}

// loaded reports whether one of libs is in shared_preload_libraries (and
// the verdict to return when that cannot be known).
func (s *Subject) loaded(libs ...string) (string, bool, *Verdict) {
	st, v := s.setting("shared_preload_libraries")
	if v != nil {
		return "", false, v
	}
	for _, have := range libraries(st.Value) {
		for _, want := range libs {
			if have == want {
				return have, true, nil
			}
		}
	}
	return "", false, nil
}

// isPrimary reports whether the instance runs as a primary.
func (s *Subject) isPrimary() bool { return !s.Evidence.Session.InRecovery }
