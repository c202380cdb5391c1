package plan

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Kind is the kind of object a change touches.
type Kind string

const (
	KindRole             Kind = "role"
	KindMembership       Kind = "membership"
	KindRoleSetting      Kind = "role_setting"
	KindPassword         Kind = "password"
	KindComment          Kind = "comment"
	KindDatabase         Kind = "database"
	KindSchema           Kind = "schema"
	KindExtension        Kind = "extension"
	KindPrivilege        Kind = "privilege" // GRANT/REVOKE on a database or schema
	KindDefaultPrivilege Kind = "default_privilege"
	KindHBA              Kind = "hba"
	KindPgBouncer        Kind = "pgbouncer" // one of the four files of an instance's PgBouncer, or its state
	KindParameter        Kind = "parameter"
	KindUnmanaged        Kind = "unmanaged"

	// Reported only, never planned as SQL, and outside the drift classes
	// the configuration's modes govern (not in Kinds): who leads a
	// Patroni-managed cluster against the inventory (Object is the
	// finding's kind: inventory_role, no_leader …), and Patroni's own
	// state and settings (pending_restart, allowlist_open …).
	KindTopology Kind = "topology"
	KindPatroni  Kind = "patroni"
)

// Kinds lists every kind (in the order creations run; revokes and drops
// run last, in their own phases).
var Kinds = []Kind{KindRole, KindComment, KindRoleSetting, KindPassword, KindMembership,
	KindDatabase, KindSchema, KindExtension, KindPrivilege, KindDefaultPrivilege, KindParameter, KindHBA, KindPgBouncer, KindUnmanaged}

// DriftClass is the drift class of the kind: the metrics and the daemon's
// per-class mode count and hold changes by it.
func (k Kind) DriftClass() model.DriftClass {
	switch k {
	case KindRole, KindMembership, KindRoleSetting, KindPassword, KindComment, KindUnmanaged:
		return model.DriftUser
	case KindDatabase, KindSchema, KindExtension:
		return model.DriftDatabase
	case KindPrivilege, KindDefaultPrivilege:
		return model.DriftPrivilege
	case KindHBA:
		return model.DriftHBA
	case KindPgBouncer:
		return model.DriftPgBouncer
	case KindParameter:
		return model.DriftParameter
	}
	return model.DriftClass(k)
}

// Action is what a change does. It is a small closed set.
type Action int

const (
	ActionCreate Action = iota + 1 // "+": the object does not exist yet
	ActionChange                   // "~": the object exists and differs
	ActionRemove                   // "-": state: absent
	ActionReport                   // "*": drift that is reported but never planned as SQL (lockout guard, unknown)
	ActionNote                     // "?": information only, not drift (unmanaged objects)
)

func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionChange:
		return "change"
	case ActionRemove:
		return "remove"
	case ActionReport:
		return "report"
	case ActionNote:
		return "note"
	}
	return "unknown"
}

// Symbol is the one-character marker of the text plan.
func (a Action) Symbol() string {
	switch a {
	case ActionCreate:
		return "+"
	case ActionChange:
		return "~"
	case ActionRemove:
		return "-"
	case ActionReport:
		return "*"
	case ActionNote:
		return "?"
	}
	return " "
}

// MarshalText makes an Action print as its name in JSON.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Statement is one SQL statement of a change.
type Statement struct {
	// SQL never holds a secret. When Password is set, SQL contains the
	// placeholder PasswordPlaceholder exactly once, which the executor
	// replaces with the quoted SCRAM verifier. In the ALTER SYSTEM
	// statement of a parameter whose value may hold a credential
	// (pgconf.MaySecret), Password is that value; the executor builds the
	// statement it runs from Change.Parameter.
	SQL      string
	Password model.Secret

	// PasswordRole and PasswordEncryption tell the executor how to turn a
	// plaintext Password into the hash sent over the wire: a SCRAM-SHA-256
	// verifier with a fresh salt (scram-sha-256), or md5(password+role)
	// (md5). Verifiers and hashes in the spec are sent as they are.
	PasswordRole       string
	PasswordEncryption string

	// Database is where the statement runs ("" = the maintenance database,
	// postgres).
	Database string

	// NoTx marks statements PostgreSQL refuses inside a transaction block
	// (CREATE/DROP DATABASE, ALTER SYSTEM).
	NoTx bool
}

// PasswordPlaceholder stands for the literal of Statement.Password inside
// Statement.SQL.
const PasswordPlaceholder = "$PASSWORD$"

// String is the statement as it may be printed and logged: the password,
// if any, is shown as '<redacted>'.
func (s Statement) String() string {
	if s.Password.IsZero() {
		return s.SQL
	}
	return strings.Replace(s.SQL, PasswordPlaceholder, "'"+model.Redacted+"'", 1)
}

// Change is one drift item: an object whose live state differs from the
// spec, with the statements that converge it.
type Change struct {
	Kind     Kind
	Action   Action
	Object   string // for display: role name, "member in role", "db.schema", parameter name, "pg_hba.conf" …
	Cluster  string
	Instance string // instance name; cluster-wide changes carry the primary's

	Before string // human-readable, redacted
	After  string // human-readable, redacted

	Statements      []Statement
	RequiresRestart bool
	Reason          string

	// Intent is what the change means, as data: its Statements are
	// rendered from it (Render), the executor's guards read it, never the
	// SQL text.
	Intent

	// Impact is what the change would do to the clients connected when
	// the plan was made (impact.go), one entry per instance it touches.
	Impact []Impact
}

// ParameterChange is one server parameter to set or reset on an instance.
// Value is a model.Secret because some values hold credentials
// (pgconf.MaySecret): only the executor reveals it.
type ParameterChange struct {
	Name  string       `json:"name"`
	Value model.Secret `json:"-"`               // the spec's value; ignored when Reset
	Reset bool         `json:"reset,omitempty"` // ALTER SYSTEM RESET: the spec no longer sets it (never planned today)
}

// HBAFile is the desired pg_hba.conf of one instance.
type HBAFile struct {
	Content string   // the whole file to write
	Diff    []string // rule lines, "+ …" wanted and missing, "- …" live and unwanted
}

// PoolerFile is what a KindPgBouncer change is about: a file of the
// PgBouncer beside Change.Instance whose content differs (Diff holds its
// line diff, verifiers redacted), or, with Reload, a file right on disk
// that the pooler has not loaded. It holds no content: the apply renders
// the four files again when it writes them, userlist.txt from pg_authid
// as it is then (as Pigsty's pgb-user AUTO copies it), and reloads once
// per pooler.
type PoolerFile struct {
	File   string   `json:"file"`           // userlist.txt, useropts.txt, database.txt, pgb_hba.conf
	Path   string   `json:"path,omitempty"` // where the live file was read
	Diff   []string `json:"diff,omitempty"` // "+ line" rendered, not live; "- line" live, not rendered; "! …" unreadable
	Reload bool     `json:"reload,omitempty"`
}

// Drift reports whether the change counts as drift (everything but notes).
func (c Change) Drift() bool { return c.Action != ActionNote }

// ClusterPlan is the plan for one cluster.
type ClusterPlan struct {
	Name      string
	Instances []Instance // for display, primary first
	Changes   []Change
	Errors    []string // instances that could not be inspected, and why
}

// Instance describes an instance of a planned cluster for display.
type Instance struct {
	Name string // <cluster>-<seq>
	Role string // primary, replica, …
	Addr string // ip:port
}

// Plan is the result of comparing a spec with live clusters.
type Plan struct {
	Commit   string // the spec commit, when known
	Signer   string // who signed it, when verified
	Clusters []ClusterPlan
}

// Status is what became of a change when a plan was applied.
type Status int

const (
	StatusApplied Status = iota + 1 // every statement ran and was committed
	StatusFailed                    // PostgreSQL (or a writer) refused it; rolled back
	StatusSkipped                   // not attempted: report-only, dry run, or its mode is observe
	StatusRefused                   // a guard refused it (lockout, invalid parameter value)
)

func (s Status) String() string {
	switch s {
	case StatusApplied:
		return "applied"
	case StatusFailed:
		return "failed"
	case StatusSkipped:
		return "skipped"
	case StatusRefused:
		return "refused"
	}
	return "unknown"
}

// MarshalText makes a Status print as its name in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Outcome is the result of applying one change.
type Outcome struct {
	Change   Change
	Status   Status
	Error    string // redacted; PostgreSQL's message, or why a guard refused
	SQLState string // when PostgreSQL refused it
	Pending  bool   // written but waiting for a restart (parameters)
}

// Result is what an apply did to one cluster.
type Result struct {
	Cluster  string
	Outcomes []Outcome
}

// Failed reports whether any change failed or was refused.
func (r *Result) Failed() bool {
	for _, o := range r.Outcomes {
		if o.Status == StatusFailed || o.Status == StatusRefused {
			return true
		}
	}
	return false
}

// Summary counts the changes of a plan by action.
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Remove  int `json:"remove"`
	Report  int `json:"report"`
	Restart int `json:"restart"`
}

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Clusters {
		for _, ch := range c.Changes {
			switch ch.Action {
			case ActionCreate:
				s.Add++
			case ActionChange:
				s.Change++
			case ActionRemove:
				s.Remove++
			case ActionReport:
				s.Report++
			}
			if ch.RequiresRestart {
				s.Restart++
			}
		}
	}
	return s
}

// HasDrift reports whether any change is drift (for --detailed-exitcode).
func (p *Plan) HasDrift() bool {
	for _, c := range p.Clusters {
		for _, ch := range c.Changes {
			if ch.Drift() {
				return true
			}
		}
	}
	return false
}
