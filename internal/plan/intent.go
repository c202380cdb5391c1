package plan

import (
	"slices"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Intent is what a change means, as data: the role and the attributes it
// sets, the membership and its options, the database and its options …
// Its Statements are rendered from it (Change.Render), the executor's
// guards read it (never the SQL text), and JSON output carries it. A
// change has the parts of its kind set, the others nil: a new role is
// Role, Comment and Settings; a new database Database, Comment, Settings
// and Grants; a role removal or a report Role.
type Intent struct {
	Role              *RoleChange        `json:"role,omitempty"`               // KindRole, and the role of KindUnmanaged
	Membership        *MembershipChange  `json:"membership,omitempty"`         // KindMembership
	Password          *PasswordChange    `json:"password,omitempty"`           // KindPassword
	Comment           *CommentChange     `json:"comment,omitempty"`            // KindComment; a new role's or database's
	Settings          *SettingsChange    `json:"settings,omitempty"`           // KindRoleSetting, a database's; a new role's or database's
	Database          *DatabaseChange    `json:"database,omitempty"`           // KindDatabase
	Schema            *SchemaChange      `json:"schema,omitempty"`             // KindSchema
	Extension         *ExtensionChange   `json:"extension,omitempty"`          // KindExtension
	Grants            []Grant            `json:"grants,omitempty"`             // KindPrivilege; a new database's privileges
	DefaultPrivileges *DefaultPrivileges `json:"default_privileges,omitempty"` // KindDefaultPrivilege

	// Parameter is what a KindParameter change sets: the executor
	// validates it against the server's pg_settings right before writing,
	// builds the statement it runs from it, and reads it back after the
	// reload.
	Parameter *ParameterChange `json:"parameter,omitempty"`

	// HBA is the rendered file of a KindHBA change (its rules show as the
	// plan's hba_diff).
	HBA *HBAFile `json:"-"`

	// Pooler is the PgBouncer file a KindPgBouncer change is about (its
	// diff shows under the change, as pg_hba.conf's does).
	Pooler *PoolerFile `json:"pgbouncer,omitempty"`
}

// RoleChange is a role a change creates, alters or drops.
type RoleChange struct {
	Name string `json:"name"`
	// Attrs are the attributes a CREATE ROLE or ALTER ROLE sets (for an
	// ActionReport: the ones not planned).
	Attrs RoleAttrs `json:"attributes,omitzero"`
	// Drop is Pigsty's removal procedure (ActionRemove).
	Drop *RoleDrop `json:"drop,omitempty"`
}

// RoleAttrs are role attributes to set; nil (or "") leaves one alone.
type RoleAttrs struct {
	Login       *bool `json:"login,omitempty"`
	Superuser   *bool `json:"superuser,omitempty"`
	CreateDB    *bool `json:"createdb,omitempty"`
	CreateRole  *bool `json:"createrole,omitempty"`
	Inherit     *bool `json:"inherit,omitempty"`
	Replication *bool `json:"replication,omitempty"`
	BypassRLS   *bool `json:"bypassrls,omitempty"`
	ConnLimit   *int  `json:"connlimit,omitempty"`
	// ValidUntil is "infinity" or a UTC timestamp as PostgreSQL reads it
	// the same in every time zone ("2026-12-31 00:00:00+00").
	ValidUntil string `json:"valid_until,omitempty"`
}

// RoleAttr names one field of RoleAttrs.
type RoleAttr int

const (
	AttrLogin RoleAttr = iota + 1
	AttrSuperuser
	AttrCreateDB
	AttrCreateRole
	AttrInherit
	AttrReplication
	AttrBypassRLS
	AttrConnLimit
	AttrValidUntil
)

// String is the attribute's name, as in JSON ("login", "connlimit" …).
func (a RoleAttr) String() string {
	names := [...]string{AttrLogin: "login", AttrSuperuser: "superuser", AttrCreateDB: "createdb", AttrCreateRole: "createrole",
		AttrInherit: "inherit", AttrReplication: "replication", AttrBypassRLS: "bypassrls", AttrConnLimit: "connlimit",
		AttrValidUntil: "valid_until"}
	if a < AttrLogin || a > AttrValidUntil {
		return "unknown"
	}
	return names[a]
}

// lastFlag is the last boolean attribute: AttrLogin … lastFlag are in the
// order CREATE/ALTER ROLE lists them.
const lastFlag = AttrBypassRLS

// keywords are the boolean attributes' keywords, on and off.
var keywords = [...][2]string{
	AttrLogin: {"LOGIN", "NOLOGIN"}, AttrSuperuser: {"SUPERUSER", "NOSUPERUSER"}, AttrCreateDB: {"CREATEDB", "NOCREATEDB"},
	AttrCreateRole: {"CREATEROLE", "NOCREATEROLE"}, AttrInherit: {"INHERIT", "NOINHERIT"},
	AttrReplication: {"REPLICATION", "NOREPLICATION"}, AttrBypassRLS: {"BYPASSRLS", "NOBYPASSRLS"},
}

// flag is the field of boolean attribute attr, nil for another attribute.
func (a *RoleAttrs) flag(attr RoleAttr) **bool {
	switch attr {
	case AttrLogin:
		return &a.Login
	case AttrSuperuser:
		return &a.Superuser
	case AttrCreateDB:
		return &a.CreateDB
	case AttrCreateRole:
		return &a.CreateRole
	case AttrInherit:
		return &a.Inherit
	case AttrReplication:
		return &a.Replication
	case AttrBypassRLS:
		return &a.BypassRLS
	}
	return nil
}

// Flag returns boolean attribute attr of a (nil: not set, or not a
// boolean attribute).
func (a *RoleAttrs) Flag(attr RoleAttr) *bool {
	if f := a.flag(attr); f != nil {
		return *f
	}
	return nil
}

// SetFlag sets boolean attribute attr of a.
func (a *RoleAttrs) SetFlag(attr RoleAttr, v bool) {
	if f := a.flag(attr); f != nil {
		*f = &v
	}
}

// Clear unsets attr in a.
func (a *RoleAttrs) Clear(attr RoleAttr) {
	switch attr {
	case AttrConnLimit:
		a.ConnLimit = nil
	case AttrValidUntil:
		a.ValidUntil = ""
	default:
		if f := a.flag(attr); f != nil {
			*f = nil
		}
	}
}

// FlagKeyword is boolean attribute attr set to v as CREATE/ALTER ROLE
// spells it (LOGIN, NOLOGIN …).
func FlagKeyword(attr RoleAttr, v bool) string {
	if attr < AttrLogin || attr > lastFlag {
		return ""
	}
	return pick(v, keywords[attr][0], keywords[attr][1])
}

// Split returns a with only attrs set, and a without them.
func (a RoleAttrs) Split(attrs ...RoleAttr) (with, without RoleAttrs) {
	with, without = a, a
	for attr := AttrLogin; attr <= AttrValidUntil; attr++ {
		if slices.Contains(attrs, attr) {
			without.Clear(attr)
		} else {
			with.Clear(attr)
		}
	}
	return with, without
}

// Keyword is how attr set to a's value reads in CREATE/ALTER ROLE
// ("NOLOGIN", "CONNECTION LIMIT 0", "VALID UNTIL 2026-12-31 00:00:00+00"),
// or "" when a does not set it.
func (a RoleAttrs) Keyword(attr RoleAttr) string {
	switch attr {
	case AttrConnLimit:
		if a.ConnLimit != nil {
			return "CONNECTION LIMIT " + itoa(*a.ConnLimit)
		}
	case AttrValidUntil:
		if a.ValidUntil != "" {
			return "VALID UNTIL " + a.ValidUntil
		}
	default:
		if v := a.Flag(attr); v != nil {
			return FlagKeyword(attr, *v)
		}
	}
	return ""
}

// Empty reports whether a sets nothing.
func (a RoleAttrs) Empty() bool { return a == RoleAttrs{} }

// expiryLayout is how ValidUntil spells a timestamp.
const expiryLayout = "2006-01-02 15:04:05-07"

// Expiry is ValidUntil as a time; false for "" and "infinity".
func (a RoleAttrs) Expiry() (time.Time, bool) {
	if a.ValidUntil == "" || a.ValidUntil == "infinity" {
		return time.Time{}, false
	}
	t, err := time.Parse(expiryLayout, a.ValidUntil)
	return t, err == nil
}

// RoleDrop is Pigsty's removal of a role: NOLOGIN, its sessions
// terminated, REASSIGN OWNED BY it TO Successor and DROP OWNED BY it in
// each of Databases, DROP ROLE.
type RoleDrop struct {
	Successor string   `json:"successor"`
	Databases []string `json:"databases"`
}

// MembershipChange is a membership of Member in Roles to grant (Action
// create: several roles at once when there are no options), whose options
// to change (Action change), or to revoke (Action remove).
type MembershipChange struct {
	Member string   `json:"member"`
	Roles  []string `json:"roles"`
	// The options granted with a new membership, or the ones an existing
	// membership changes to; nil: not touched. Inherit and Set only on
	// PostgreSQL 16 and later.
	Admin   *bool `json:"admin,omitempty"`
	Inherit *bool `json:"inherit,omitempty"`
	Set     *bool `json:"set,omitempty"`
	// Grantors are the grantors whose grants a revoked membership takes,
	// one REVOKE … GRANTED BY each (PostgreSQL 16 and later keep a grant
	// per grantor); "" revokes without GRANTED BY. None: one plain REVOKE.
	Grantors []string `json:"grantors,omitempty"`
	// OptionGrantors are, for an option an existing membership turns off
	// (ADMIN, INHERIT, SET), the grantors whose grants hold it, one REVOKE
	// … OPTION … GRANTED BY each; absent: one plain REVOKE … OPTION.
	OptionGrantors map[string][]string `json:"option_grantors,omitempty"`
}

// ObjectType is what a comment, settings or a grant is on.
type ObjectType string

const (
	OnRole     ObjectType = "role"
	OnDatabase ObjectType = "database"
	OnSchema   ObjectType = "schema"
)

// CommentChange is the comment to set on a role or database.
type CommentChange struct {
	On   ObjectType `json:"on"`
	Name string     `json:"name"`
	Text string     `json:"text"`
}

// SettingsChange is ALTER ROLE/DATABASE … SET (or RESET) of the settings
// listed.
type SettingsChange struct {
	On       ObjectType      `json:"on"`
	Name     string          `json:"name"`
	Settings []model.Setting `json:"settings"`
}

// PasswordChange is a new password for Role. Password is the spec's: a
// plaintext that the executor hashes (Encryption: scram-sha-256 or md5),
// or a verifier sent as it is.
type PasswordChange struct {
	Role       string       `json:"role"`
	Password   model.Secret `json:"-"`
	Encryption string       `json:"encryption,omitempty"`
}

// DatabaseChange is a database to create (with every option set), alter
// (the options set are the ones that change) or drop (after the options
// set, e.g. IS_TEMPLATE false).
type DatabaseChange struct {
	Name string `json:"name"`

	Owner      string `json:"owner,omitempty"`
	Tablespace string `json:"tablespace,omitempty"`
	AllowConn  *bool  `json:"allow_connections,omitempty"`
	ConnLimit  *int   `json:"connlimit,omitempty"`
	IsTemplate *bool  `json:"is_template,omitempty"`

	// Creation-only options.
	Template       string `json:"template,omitempty"`
	Encoding       string `json:"encoding,omitempty"`
	Strategy       string `json:"strategy,omitempty"`
	Locale         string `json:"locale,omitempty"`
	LCCollate      string `json:"lc_collate,omitempty"`
	LCCtype        string `json:"lc_ctype,omitempty"`
	LocaleProvider string `json:"locale_provider,omitempty"`
	ICULocale      string `json:"icu_locale,omitempty"`
	ICURules       string `json:"icu_rules,omitempty"`      // PostgreSQL 16 and later
	BuiltinLocale  string `json:"builtin_locale,omitempty"` // PostgreSQL 17 and later
}

// SchemaChange is a schema to create, give a new owner, or drop.
type SchemaChange struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Owner    string `json:"owner,omitempty"`
}

// ExtensionChange is an extension to create, update or move (the fields
// set change), or drop.
type ExtensionChange struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Schema   string `json:"schema,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Grant is a GRANT or REVOKE of privileges on a database or a schema.
type Grant struct {
	On         ObjectType `json:"on"` // OnDatabase or OnSchema
	Database   string     `json:"database"`
	Schema     string     `json:"schema,omitempty"`
	Privileges []string   `json:"privileges"`        // as GRANT spells them: CONNECT, CREATE, ALL PRIVILEGES
	Grantee    string     `json:"grantee,omitempty"` // "" is PUBLIC
	Revoke     bool       `json:"revoke,omitempty"`
	Option     bool       `json:"grant_option,omitempty"` // WITH GRANT OPTION
}

// DefaultPrivileges are default privileges to grant in Database for the
// objects Owner creates.
type DefaultPrivileges struct {
	Database string         `json:"database"`
	Owner    string         `json:"owner"`
	Grants   []DefaultGrant `json:"grants"`
}

// DefaultGrant is one ALTER DEFAULT PRIVILEGES … GRANT.
type DefaultGrant struct {
	Privileges []string `json:"privileges"`
	ObjectType string   `json:"object_type"`       // TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS
	Grantee    string   `json:"grantee,omitempty"` // "" is PUBLIC
	Option     bool     `json:"grant_option,omitempty"`
}
