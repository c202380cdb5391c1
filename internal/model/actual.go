package model

import "time"

// InstanceState is what one live PostgreSQL instance holds, as read by
// package inspect in a fixed number of round trips.
type InstanceState struct {
	Cluster  string
	Instance string // <cluster>-<seq>
	Addr     string
	Port     int

	Version    int       // server_version_num, e.g. 150018
	InRecovery bool      // a replica or standby
	Now        time.Time // the server's clock, for expire_in
	DataDir    string
	HBAFile    string // SHOW hba_file

	Session Session

	// AuthidReadable is false when pg_authid could not be read (not a
	// superuser): passwords are then unknown, never "in sync".
	AuthidReadable bool

	Roles       []*LiveRole     // sorted by name, pg_* included
	Databases   []*LiveDatabase // sorted by name
	HBA         *LiveHBA        // nil when unreadable
	Settings    map[string]*LiveSetting
	Replication []ReplicationClient

	// Pooler is the PgBouncer beside the instance, read when the
	// reconciler manages poolers; nil when not read, and then PoolerErr
	// says why if it was tried (the pooler is down, refuses the login).
	Pooler    *PoolerState
	PoolerErr string

	// Clients are the client sessions open when the instance was
	// inspected, grouped by who connects from where (see ClientGroup);
	// the inspecting session is not among them, walsenders are in
	// Replication. ClientGroups counts every group, also those beyond
	// the cap the inspection reads.
	Clients      []ClientGroup
	ClientGroups int

	// Logged are the connections the server logged as authorized
	// (log_connections) in its csvlog files within the inspection's log
	// window, grouped alike (Sessions counts connections); LogRead says
	// whether the log could be read at all.
	Logged       []ClientGroup
	LoggedGroups int
	LogRead      bool
}

// Role returns the live role called name, or nil.
func (s *InstanceState) Role(name string) *LiveRole {
	for _, r := range s.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Database returns the live database called name, or nil.
func (s *InstanceState) Database(name string) *LiveDatabase {
	for _, d := range s.Databases {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Session describes the inspecting connection itself: the lockout guard
// must keep exactly this path open.
type Session struct {
	User            string
	Database        string
	ClientAddr      string // "" over a Unix socket
	SSL             bool
	Superuser       bool
	ApplicationName string
}

// LiveRole is a row of pg_authid (or pg_roles) with its memberships,
// settings and comment.
type LiveRole struct {
	Name string
	OID  uint32

	Superuser, Inherit, CreateRole, CreateDB, Login, Replication, BypassRLS bool

	ConnLimit  int
	ValidUntil *time.Time // nil = NULL (never expires); infinity is time.Time{} with Infinity set
	Infinity   bool       // VALID UNTIL 'infinity'
	Comment    *string

	// Password is rolpassword when AuthidReadable; zero when NULL.
	Password Secret

	MemberOf []LiveMembership
	Settings []LiveRoleSetting

	// Owns counts the objects the role owns (pg_shdepend), by database
	// name; "" holds the shared objects (databases, tablespaces).
	Owns map[string]int
}

// LiveMembership is a row of pg_auth_members seen from the member.
type LiveMembership struct {
	Role    string
	Admin   bool
	Inherit *bool // PG16+ only
	Set     *bool // PG16+ only
	Grantor string
}

// LiveRoleSetting is one entry of pg_db_role_setting for a role.
type LiveRoleSetting struct {
	Database string // "" = all databases
	Name     string
	Value    string
}

// LiveDatabase is a row of pg_database plus, for managed databases, what
// lives inside it.
type LiveDatabase struct {
	Name           string
	Owner          string
	ConnLimit      int
	AllowConn      bool
	IsTemplate     bool
	Comment        *string
	Encoding       string
	Collate, Ctype string
	LocaleProvider string
	ICULocale      string
	ICURules       string // daticurules (16+)
	BuiltinLocale  string // datlocale of a builtin-provider database (17+)
	Tablespace     string
	ACL            []string // datacl items as text; nil = default (owner: all; PUBLIC: CONNECT, TEMPORARY)
	Settings       []Setting

	// Inside reports whether the fields below were read (only managed
	// databases are entered).
	Inside     bool
	Schemas    []LiveSchema
	Extensions []LiveExtension
	DefaultACL []DefaultACL
}

// LiveSchema is a row of pg_namespace (system schemas excluded).
type LiveSchema struct {
	Name, Owner string
	ACL         []string // nspacl items as text; nil = default (owner: USAGE, CREATE)
}

// LiveExtension is a row of pg_extension.
type LiveExtension struct{ Name, Schema, Version string }

// DefaultACL is one privilege of one grantee in pg_default_acl
// (aclexplode'd): ALTER DEFAULT PRIVILEGES FOR ROLE Owner [IN SCHEMA
// Schema] GRANT Privilege ON ObjectType TO Grantee.
type DefaultACL struct {
	Owner      string // defaclrole: FOR ROLE
	Schema     string // "" = all schemas
	ObjectType string // TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS
	Grantee    string // "PUBLIC" for the public pseudo-role
	Privilege  string // SELECT, INSERT, … as aclexplode names them
	Grantable  bool   // WITH GRANT OPTION
}

// LiveHBA is the HBA file as PostgreSQL sees it.
type LiveHBA struct {
	Path  string
	Text  string   // file contents (pg_read_file)
	Rules []HBARow // pg_hba_file_rules, in file order, error rows included

	// Modified is the file's modification time (zero when pg_stat_file is
	// not allowed); Loaded is pg_conf_load_time(). A file modified after
	// the last load is on disk but not in force.
	Modified, Loaded time.Time
}

// HBARow is a row of pg_hba_file_rules.
type HBARow struct {
	Line       int
	Type       string
	Database   []string
	User       []string
	Address    string
	Netmask    string
	AuthMethod string
	Options    []string
	Error      string
	File       string // file_name (16+): the file the line is in, "" before 16
}

// LiveSetting is a row of pg_settings joined with the last pg_file_settings
// row for the same name.
//
// Setting and Source are the server's: what a new ordinary session gets
// from the server's configuration (configuration files and ALTER SYSTEM,
// the postmaster's command line, environment, built-in defaults), whoever
// asks. When the inspecting session's own value came from the session
// (its startup packet, SET, ALTER ROLE or ALTER DATABASE … SET), package
// inspect works the server's value out and keeps the session's in
// SessionSetting and SessionSource. When it cannot, Unknown says why, and
// Setting and Source are "": nothing can be in sync with them.
type LiveSetting struct {
	Name           string
	Setting        string // in the base unit, as pg_settings shows it
	Unit           string
	Context        string
	VarType        string
	Source         string // pg_settings.source: default, configuration file, command line …
	SourceFile     string
	BootVal        string
	ResetVal       string
	EnumVals       []string
	MinVal, MaxVal string
	PendingRestart bool
	Version        int // server_version_num of the server it was read from; 0 (a row made by hand) reads as 150000

	// SessionSetting and SessionSource are the inspecting session's own
	// value and its source (client, user, database …) when it did not run
	// the server's value; both "" when it did.
	SessionSetting, SessionSource string

	// Unknown says why the server's value could not be determined ("" when
	// it was). Unloaded is set with it when all that is unknown is whether
	// the server has loaded its configuration files, modified after the
	// last reload (an ALTER SYSTEM whose reload was lost, an edit by hand):
	// writing the value and reloading settles it.
	Unknown  string
	Unloaded bool

	// File* come from the last pg_file_settings row for this name, if any:
	// the value written to a configuration file but perhaps not live yet.
	FileValue   *string
	FileSource  string // the file it came from, e.g. …/postgresql.auto.conf
	FileApplied bool
	FileError   string
}

// ClientGroup is the client sessions of pg_stat_activity (joined with
// pg_stat_ssl) that share a user, database, client address, SSL and
// application name: the live evidence of a plan's impact preview. It
// holds names and addresses only, never a query's text.
type ClientGroup struct {
	User            string
	Database        string
	ClientAddr      string // "" over a Unix socket, or when Hidden
	Hidden          bool   // the inspecting role may not see the address (not pg_read_all_stats)
	SSL             bool
	ApplicationName string
	Sessions        int
}

// ReplicationClient is a row of pg_stat_replication.
type ReplicationClient struct {
	User            string
	ApplicationName string
	ClientAddr      string
	SSL             bool
	State           string
}
