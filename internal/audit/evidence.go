package audit

import (
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Evidence is what the collector read from one instance. Checks judge it
// and nothing else: they never connect. No field holds a secret — the
// password column of pg_authid never leaves the server (the SQL returns
// only its type), and commands are reduced to their program.
//
// A part that could not be read is absent (nil, empty) and Unread says
// why, under the part's name; Err says why nothing at all was read.
type Evidence struct {
	Cluster  string `json:"cluster"`
	Instance string `json:"instance"`
	Addr     string `json:"addr"` // ip:port, as the spec declares it
	// Err is why the instance could not be read at all (unreachable, login
	// refused); every check is then unknown.
	Err string `json:"error,omitempty"`

	Session  Session            `json:"session"`
	Settings map[string]Setting `json:"settings,omitempty"`
	// Overrides are per-role and per-database settings (ALTER ROLE/DATABASE
	// … SET) of the parameters the audit reads: a session of that role or
	// database does not get the server's value.
	Overrides []Override `json:"overrides,omitempty"`
	Roles     []Role     `json:"roles,omitempty"`
	// Verifiers says whether Role.Verifier was read (pg_authid is readable
	// by superusers only).
	Verifiers bool      `json:"verifiers"`
	HBA       *HBA      `json:"hba,omitempty"`
	Archiver  *Archiver `json:"archiver,omitempty"`
	// Replicas are pg_stat_replication's rows (on a primary).
	Replicas []Replica `json:"replicas,omitempty"`
	// Extensions are the extensions of each managed database (primary
	// only), by database.
	Extensions map[string][]string `json:"extensions,omitempty"`
	TLS        *TLS                `json:"tls,omitempty"`
	// ChangeLog is the primary's pgreconciler.change_log in the audited
	// period (nil: not read).
	ChangeLog []ChangeRow `json:"-"`

	// Pooler and Patroni are filled by collectors of phase 2 (PgBouncer's
	// console, Patroni's REST API); nil means not collected, and the
	// checks that need them are unknown.
	Pooler  *Pooler  `json:"pooler,omitempty"`
	Patroni *Patroni `json:"patroni,omitempty"`

	Unread map[string]string `json:"unread,omitempty"`
}

// unread records why part of the evidence is missing.
func (e *Evidence) unread(part, why string) {
	if e.Unread == nil {
		e.Unread = map[string]string{}
	}
	e.Unread[part] = why
}

// Session is who the collector was and what server it met.
type Session struct {
	User       string    `json:"user"`
	Superuser  bool      `json:"superuser"`
	Version    int       `json:"version"` // server_version_num
	InRecovery bool      `json:"in_recovery"`
	SSL        bool      `json:"ssl"` // the collector's own session used TLS
	Now        time.Time `json:"now"` // the server's clock
}

// Setting is a row of pg_settings.
type Setting struct {
	Value          string   `json:"value"`
	Unit           string   `json:"unit,omitempty"`
	VarType        string   `json:"-"`
	EnumVals       []string `json:"-"`
	Source         string   `json:"source"`
	PendingRestart bool     `json:"pending_restart,omitempty"`
	// Own is set when the value is the collector's session's own (its
	// role's or database's ALTER … SET): the server's value was read by
	// other means, or is Unknown.
	Own     bool   `json:"own,omitempty"`
	Unknown string `json:"unknown,omitempty"`
}

// Override is one ALTER ROLE / ALTER DATABASE … SET of an audited
// parameter. Role or Database is "" when the setting applies to all.
type Override struct {
	Role     string `json:"role,omitempty"`
	Database string `json:"database,omitempty"`
	Name     string `json:"name"`
	Value    string `json:"value"`
}

// Role is a role of pg_roles, and the type of its password.
type Role struct {
	Name        string     `json:"name"`
	Login       bool       `json:"login"`
	Superuser   bool       `json:"superuser"`
	CreateRole  bool       `json:"createrole"`
	CreateDB    bool       `json:"createdb"`
	Replication bool       `json:"replication"`
	BypassRLS   bool       `json:"bypassrls"`
	ValidUntil  *time.Time `json:"valid_until,omitempty"` // nil: no expiry (NULL) or Infinity
	Infinity    bool       `json:"infinity,omitempty"`
	MemberOf    []string   `json:"member_of,omitempty"` // direct memberships, sorted
	// Verifier is the type of the stored password: scram-sha-256, md5,
	// plaintext or none; "" when pg_authid was not readable.
	Verifier string `json:"verifier,omitempty"`
}

// HBA is pg_hba.conf as the server parses it.
type HBA struct {
	File string         `json:"file"`
	Rows []model.HBARow `json:"rows"`
	// Loaded is pg_conf_load_time(); Modified the file's modification time
	// (zero when pg_stat_file is not allowed). pg_hba_file_rules reads the
	// file on disk: when it changed after the last load, the rules in force
	// are not the ones shown.
	Loaded   time.Time `json:"loaded"`
	Modified time.Time `json:"modified,omitempty"`
}

// Archiver is pg_stat_archiver.
type Archiver struct {
	ArchivedCount    int64      `json:"archived_count"`
	LastArchivedWAL  string     `json:"last_archived_wal,omitempty"`
	LastArchivedTime *time.Time `json:"last_archived_time,omitempty"`
	FailedCount      int64      `json:"failed_count"`
	LastFailedWAL    string     `json:"last_failed_wal,omitempty"`
	LastFailedTime   *time.Time `json:"last_failed_time,omitempty"`
}

// Replica is a row of pg_stat_replication.
type Replica struct {
	Name      string `json:"application_name"`
	Addr      string `json:"client_addr,omitempty"`
	State     string `json:"state"`
	SyncState string `json:"sync_state"`
}

// TLS is what a TLS handshake with the server showed: its certificate,
// checked against the instance's address, and the protocol it chose.
type TLS struct {
	Offered   bool      `json:"offered"` // the server accepted the SSLRequest
	Version   string    `json:"version,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	NotBefore time.Time `json:"not_before,omitempty"`
	NotAfter  time.Time `json:"not_after,omitempty"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	IPs       []string  `json:"ip_addresses,omitempty"`
	// NameMismatch is why the certificate does not name the instance's
	// address ("" when it does).
	NameMismatch string `json:"name_mismatch,omitempty"`
	// Chain says whether the certificate chains to the given root CAs:
	// "verified", "not verified: …" or "" when no roots were given.
	Chain     string    `json:"chain,omitempty"`
	CheckedAt time.Time `json:"checked_at"` // the collector's clock
	Err       string    `json:"error,omitempty"`
}

// Pooler is what the PgBouncer in front of an instance enforces, as its
// admin console's SHOW CONFIG reports it (PoolerFrom reads it).
type Pooler struct {
	Addr          string `json:"addr"`
	Version       string `json:"version,omitempty"`
	ClientTLSMode string `json:"client_tls_sslmode"` // disable, allow, prefer, require, verify-ca, verify-full
	AuthType      string `json:"auth_type"`          // scram-sha-256, md5, hba, trust …
	// HBAFile is auth_hba_file; HBA its lines as parsed (secret options
	// redacted when shown), nil when it was not read, and HBAUnread why.
	HBAFile   string   `json:"auth_hba_file,omitempty"`
	HBA       []string `json:"hba,omitempty"`
	HBAUnread string   `json:"hba_unread,omitempty"`
	Err       string   `json:"error,omitempty"`

	lines []hba.Line // HBA, parsed
}

// Patroni is what the Patroni of an instance reports on its REST API
// (PatroniFrom): the cluster as the member sees it (GET /cluster), its own
// state (GET /patroni), the DCS's failover settings (GET /config) and the
// answers of the unsafe endpoints to a probe that changes nothing. It holds
// no secret: the REST password is only ever sent, never recorded, and the
// probe's results are booleans.
type Patroni struct {
	URL string `json:"url"`
	TLS bool   `json:"tls"` // the REST API is served over HTTPS
	// PlainHTTP: patroni_ssl_enabled asks for https and the API answered
	// plain http.
	PlainHTTP bool            `json:"plain_http,omitempty"`
	Role      string          `json:"role"`
	State     string          `json:"state,omitempty"`
	Members   int             `json:"members"` // cluster members Patroni knows, itself included
	Leader    string          `json:"leader,omitempty"`
	Member    []PatroniMember `json:"member_list,omitempty"`
	Paused    bool            `json:"paused"` // maintenance mode: no automatic failover
	// Failsafe is the DCS's failsafe_mode; FailsafeActive that the leader
	// runs on it now (the DCS is unreachable).
	Failsafe       bool `json:"failsafe_mode"`
	FailsafeActive bool `json:"failsafe_active,omitempty"`
	SyncMode       bool `json:"synchronous_mode"`
	SyncStrict     bool `json:"synchronous_mode_strict,omitempty"`
	// MaxLag is maximum_lag_on_failover in bytes (Patroni's default 1 MiB):
	// a replica further behind is not promoted.
	MaxLag int64 `json:"maximum_lag_on_failover"`
	// Probe is what the unsafe endpoints answered; nil with ProbeErr when
	// the probe failed.
	Probe    *model.PatroniProbe `json:"probe,omitempty"`
	ProbeErr string              `json:"probe_error,omitempty"`
	// Unread names what could not be read beside the cluster view.
	Unread map[string]string `json:"unread,omitempty"`
	Err    string            `json:"error,omitempty"`
}

// PatroniMember is one member as GET /cluster lists it.
type PatroniMember struct {
	Name       string `json:"name"`
	Role       string `json:"role"`
	State      string `json:"state"`
	Lag        *int64 `json:"lag_bytes,omitempty"` // nil for the leader and when Patroni does not know
	NoFailover bool   `json:"nofailover,omitempty"`
}

// ChangeRow is a row of pgreconciler.change_log. Statements are not read:
// the audit judges who changed what, from which commit.
type ChangeRow struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Cluster  string    `json:"cluster"`
	Instance string    `json:"instance"`
	Kind     string    `json:"kind"`
	Action   string    `json:"action"`
	Object   string    `json:"object"`
	Commit   string    `json:"commit"`
	Signer   string    `json:"signer"` // as recorded when it was applied
	Author   string    `json:"author"`
	Status   string    `json:"status"` // applied, failed, refused, observed
	// What is the statement column of an observed row: what differed.
	What string `json:"what,omitempty"`
}
