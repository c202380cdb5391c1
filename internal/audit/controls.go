package audit

import "fmt"

// Framework names the standard a control comes from.
type Framework string

const (
	MLPS3 Framework = "MLPS Level 3" // China's GB/T 22239-2019, Level 3
	SOC2  Framework = "SOC 2"        // SOC 2 Type II trust services criteria
)

// Control is one row of the compliance table of Pigsty's security
// reference (pigsty-security-compliance.txt): a requirement of MLPS Level
// 3 or a SOC 2 control point, what Pigsty's defaults do about it, and the
// checks that judge it on the live servers.
type Control struct {
	ID        string    `json:"id"` // "MLPS3-PasswordComplexity", "SOC2-CC6.1": the ids the policy profiles name
	Framework Framework `json:"framework"`
	Name      string    `json:"name"` // the reference's requirement or control point
	// DefaultMet is the reference's "Default Met" column: true (✅) when
	// Pigsty's default configuration meets it, false (⚠️) when it needs
	// the configuration the reference describes.
	DefaultMet bool   `json:"default_met"`
	Reference  string `json:"reference"` // the reference's description column
	// Checks decide the control, in the order they are reported.
	Checks []string `json:"checks"`
	// Unjudged says what part of the control no check sees from
	// PostgreSQL (a firewall, an alert manager, disk encryption): the
	// auditor needs other evidence for it.
	Unjudged string `json:"unjudged,omitempty"`
}

// Controls returns the reference's table: the MLPS Level 3 requirements
// in its order, then the SOC 2 control points. The result is a fresh copy.
func Controls() []Control {
	return []Control{
		{ID: "MLPS3-IdentityUniqueness", Framework: MLPS3, Name: "Identity Uniqueness", DefaultMet: true,
			Reference: "Role system ensures unique user identification",
			Checks:    []string{"roles-declared", "password-encryption", "login-verifiers"}},
		{ID: "MLPS3-PasswordComplexity", Framework: MLPS3, Name: "Password Complexity", DefaultMet: false,
			Reference: "Can enable passwordcheck / credcheck to enforce password complexity",
			Checks:    []string{"password-check"}},
		{ID: "MLPS3-PasswordPeriodicChange", Framework: MLPS3, Name: "Password Periodic Change", DefaultMet: false,
			Reference: "Set user validity period via expire_in/expire_at and refresh periodically",
			Checks:    []string{"login-expiry"}},
		{ID: "MLPS3-LoginFailureHandling", Framework: MLPS3, Name: "Login Failure Handling", DefaultMet: false,
			Reference: "Failed login requests recorded in logs, can work with fail2ban for auto-blocking",
			Checks:    []string{"auth-failures-logged", "auth-delay"},
			Unjudged:  "blocking of repeated failures outside PostgreSQL (fail2ban) is not visible from the server"},
		{ID: "MLPS3-TwoFactorAuth", Framework: MLPS3, Name: "Two-Factor Auth", DefaultMet: false,
			Reference: "Password + Client SSL certificate auth",
			Checks:    []string{"hba-cert"}},
		{ID: "MLPS3-AccessControl", Framework: MLPS3, Name: "Access Control", DefaultMet: true,
			Reference: "HBA rules + RBAC + SELinux",
			Checks:    []string{"hba-no-trust-tcp", "hba-as-declared", "pgbouncer-auth", "patroni-rest-auth", "change-custody"},
			Unjudged:  "SELinux is the host's: not visible from the server"},
		{ID: "MLPS3-LeastPrivilege", Framework: MLPS3, Name: "Least Privilege", DefaultMet: true,
			Reference: "Tiered role system",
			Checks:    []string{"privileged-roles"}},
		{ID: "MLPS3-PrivilegeSeparation", Framework: MLPS3, Name: "Privilege Separation", DefaultMet: true,
			Reference: "DBA / Monitor / App Read/Write/ETL/Personal user separation",
			Checks:    []string{"role-tiers"}},
		{ID: "MLPS3-CommunicationEncryption", Framework: MLPS3, Name: "Communication Encryption", DefaultMet: true,
			Reference: "SSL enabled by default, can enforce SSL",
			Checks:    []string{"ssl-on", "ssl-min-protocol", "server-certificate", "hba-admin-ssl", "hba-ssl-required", "patroni-rest-ssl"}},
		{ID: "MLPS3-DataIntegrity", Framework: MLPS3, Name: "Data Integrity", DefaultMet: true,
			Reference: "Data checksums enabled by default",
			Checks:    []string{"data-checksums"}},
		{ID: "MLPS3-StorageEncryption", Framework: MLPS3, Name: "Storage Encryption", DefaultMet: false,
			Reference: "Backup encryption + Percona TDE kernel support",
			Checks:    []string{"storage-encryption"},
			Unjudged:  "volume encryption (LUKS) and pgBackRest's repository cipher are not visible from the server"},
		{ID: "MLPS3-AuditLogging", Framework: MLPS3, Name: "Audit Logging", DefaultMet: true,
			Reference: "Logs record DDL and sensitive operations, can record all operations",
			Checks: []string{"log-statement", "log-connections", "log-disconnections", "log-lock-waits",
				"log-replication-commands", "log-min-duration-statement", "pgaudit"}},
		{ID: "MLPS3-LogProtection", Framework: MLPS3, Name: "Log Protection", DefaultMet: true,
			Reference: "File permission isolation, VictoriaLogs centralized collection for tamper-proofing",
			Checks:    []string{"log-file-mode"},
			Unjudged:  "central collection (Vector to VictoriaLogs) is not visible from the server"},
		{ID: "MLPS3-BackupRecovery", Framework: MLPS3, Name: "Backup Recovery", DefaultMet: true,
			Reference: "pgBackRest automatic backup",
			Checks:    []string{"wal-archiving", "patroni-failover"},
			Unjudged:  "full and differential backups (pgbackrest info) are not read yet"},
		{ID: "MLPS3-NetworkIsolation", Framework: MLPS3, Name: "Network Isolation", DefaultMet: true,
			Reference: "Firewall + HBA",
			Checks:    []string{"listen-addresses", "hba-no-trust-tcp", "patroni-rest-auth"},
			Unjudged:  "the host firewall (node_firewall_mode) is not visible from the server"},

		{ID: "SOC2-CC6.1", Framework: SOC2, Name: "CC6.1 Logical Access Control", DefaultMet: true,
			Reference: "HBA + RBAC + SELinux",
			Checks: []string{"hba-no-trust-tcp", "hba-as-declared", "password-encryption", "login-verifiers",
				"password-check", "hba-cert", "listen-addresses", "pgbouncer-auth", "patroni-rest-auth"}},
		{ID: "SOC2-CC6.2", Framework: SOC2, Name: "CC6.2 User Registration Auth", DefaultMet: true,
			Reference: "Ansible declarative management",
			Checks:    []string{"roles-declared", "login-expiry", "change-custody"}},
		{ID: "SOC2-CC6.3", Framework: SOC2, Name: "CC6.3 Least Privilege", DefaultMet: true,
			Reference: "Tiered roles",
			Checks:    []string{"privileged-roles", "role-tiers"}},
		{ID: "SOC2-CC6.6", Framework: SOC2, Name: "CC6.6 Transmission Encryption", DefaultMet: true,
			Reference: "SSL/TLS globally enabled",
			Checks:    []string{"ssl-on", "ssl-min-protocol", "server-certificate", "hba-admin-ssl", "hba-ssl-required", "pgbouncer-tls", "patroni-rest-ssl"}},
		{ID: "SOC2-CC6.7", Framework: SOC2, Name: "CC6.7 Static Encryption", DefaultMet: false,
			Reference: "Can use Percona PGTDE kernel, and pgsodium/vault extensions",
			Checks:    []string{"storage-encryption"}},
		{ID: "SOC2-CC6.8", Framework: SOC2, Name: "CC6.8 Malware Protection", DefaultMet: false,
			Reference: "Minimal installation + audit",
			Checks:    []string{"pgaudit"},
			Unjudged:  "installed packages and anti-malware on the host are not visible from the server"},
		{ID: "SOC2-CC7.1", Framework: SOC2, Name: "CC7.1 Intrusion Detection", DefaultMet: false,
			Reference: "Set log Auth Fail monitoring alert rules",
			Checks:    []string{"auth-failures-logged", "log-connections"},
			Unjudged:  "alert rules on authentication failures live in the monitoring system"},
		{ID: "SOC2-CC7.2", Framework: SOC2, Name: "CC7.2 System Monitoring", DefaultMet: true,
			Reference: "VictoriaMetrics + Grafana",
			Checks: []string{"monitoring", "log-statement", "log-connections", "log-lock-waits",
				"log-replication-commands", "log-min-duration-statement"}},
		{ID: "SOC2-CC7.3", Framework: SOC2, Name: "CC7.3 Event Response", DefaultMet: true,
			Reference: "Alertmanager",
			Unjudged:  "alert routing (Alertmanager) lives outside PostgreSQL: no check on the servers decides it"},
		{ID: "SOC2-CC9.1", Framework: SOC2, Name: "CC9.1 Business Continuity", DefaultMet: true,
			Reference: "HA + automatic failover",
			Checks:    []string{"replicas-streaming", "patroni-failover"}},
		{ID: "SOC2-A1.2", Framework: SOC2, Name: "A1.2 Data Recovery", DefaultMet: true,
			Reference: "PITR backup recovery",
			Checks:    []string{"wal-archiving", "data-checksums", "patroni-failover"}},
	}
}

// Level says which profile requires a check.
type Level uint8

const (
	// LevelBaseline checks hold under Pigsty's default configuration (the
	// oltp template, the default HBA rules and roles).
	LevelBaseline Level = iota + 1
	// LevelStrict checks need the configuration the reference describes
	// for an enterprise assessment (the crit template, passwordcheck,
	// expire_at, cert rules, hostssl everywhere …).
	LevelStrict
)

func (l Level) String() string {
	switch l {
	case LevelBaseline:
		return "baseline"
	case LevelStrict:
		return "strict"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// MarshalText makes a Level print as its name in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Profile is what an audit requires: the checks of its level and below.
// A failing check the profile does not require is reported, but does not
// fail the audit.
type Profile string

const (
	ProfileBaseline Profile = "baseline" // the checks Pigsty's defaults meet
	ProfileStrict   Profile = "strict"   // every check: MLPS Level 3 / SOC 2 as the reference configures them
	ProfileNone     Profile = "none"     // report only: nothing is required
)

// ParseProfile reads a profile name.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case ProfileBaseline, ProfileStrict, ProfileNone:
		return p, nil
	}
	return "", fmt.Errorf("parse profile %q: want baseline, strict or none", s)
}

// Requires reports whether the profile requires checks of level l.
func (p Profile) Requires(l Level) bool {
	switch p {
	case ProfileStrict:
		return true
	case ProfileBaseline:
		return l == LevelBaseline
	}
	return false
}
