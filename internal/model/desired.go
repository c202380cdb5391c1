package model

import (
	"sort"
	"strconv"
)

// Desired is a whole fleet as a spec repository declares it.
type Desired struct {
	Clusters []*Cluster // sorted by Name
}

// Cluster returns the cluster called name, or nil.
func (d *Desired) Cluster(name string) *Cluster {
	i := sort.Search(len(d.Clusters), func(i int) bool { return d.Clusters[i].Name >= name })
	if i < len(d.Clusters) && d.Clusters[i].Name == name {
		return d.Clusters[i]
	}
	return nil
}

// Cluster is one PostgreSQL cluster (a Pigsty group with pg_cluster set).
// Cluster-wide objects (roles, databases, default privileges) are resolved
// with the primary's variables, because that is where Pigsty runs their SQL;
// per-host values (port, HBA, parameters) live on each Instance.
type Cluster struct {
	Name      string
	Globals   Globals
	Instances []*Instance // sorted by Seq

	// Roles is pg_default_roles followed by pg_users, in declaration order
	// (later entries may be members of earlier ones).
	Roles     []*Role
	Databases []*Database

	// DefaultPrivileges are pg_default_privileges clauses, e.g.
	// "GRANT SELECT ON TABLES TO dbrole_readonly"; nil means not managed.
	DefaultPrivileges []string

	// Patroni is how Patroni runs the cluster (patroni_* variables).
	Patroni PatroniSpec
	// Leader, when set, names the instance that leads the cluster live
	// (package reconcile sets it on its own copy from the topology): the
	// instance cluster-wide changes go to, whatever pg_role says.
	Leader string
}

// Primary returns the instance cluster-wide changes go to: the live
// Leader when set, else the instance with pg_role primary (validation
// guarantees exactly one).
func (c *Cluster) Primary() *Instance {
	if c.Leader != "" {
		return c.Instance(c.Leader)
	}
	for _, in := range c.Instances {
		if in.Role == RolePrimary {
			return in
		}
	}
	return nil
}

// Instance returns the instance with the given name (<cluster>-<seq>) or IP.
func (c *Cluster) Instance(nameOrIP string) *Instance {
	for _, in := range c.Instances {
		if in.Name() == nameOrIP || in.IP == nameOrIP {
			return in
		}
	}
	return nil
}

// Role returns the declared role called name, or nil.
func (c *Cluster) Role(name string) *Role {
	for _, r := range c.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// ManagedDatabases are the databases whose insides (schemas, extensions,
// default privileges) the reconciler compares and converges, on the
// primary: postgres and every database the spec declares present.
func (c *Cluster) ManagedDatabases() []string {
	out := []string{"postgres"}
	for _, d := range c.Databases {
		if d.State != DatabaseAbsent && d.Name != "postgres" {
			out = append(out, d.Name)
		}
	}
	return out
}

// MemberIPs is Pigsty's pg_cluster_members: the sorted IPs of all instances.
func (c *Cluster) MemberIPs() []string {
	ips := make([]string, 0, len(c.Instances))
	for _, in := range c.Instances {
		ips = append(ips, in.IP)
	}
	sort.Strings(ips)
	return ips
}

// Globals are the fleet-wide variables HBA aliases and role protection need,
// with Pigsty's defaults applied.
type Globals struct {
	AdminIP            string   // admin_ip (default 10.10.10.10)
	InfraIPs           []string // IPs of the inventory group "infra", sorted
	Intranet           []string // node_firewall_intranet, in declared order
	DBSU               string   // pg_dbsu (postgres)
	ReplicationUser    string   // pg_replication_username (replicator)
	AdminUser          string   // pg_admin_username (dbuser_dba)
	MonitorUser        string   // pg_monitor_username (dbuser_monitor)
	PasswordEncryption string   // pg_pwd_enc: scram-sha-256 | md5
}

// Protected reports whether name is one of the system users that may never
// be removed (dbsu, replicator, admin, monitor).
func (g Globals) Protected(name string) bool {
	return name == g.DBSU || name == g.ReplicationUser || name == g.AdminUser || name == g.MonitorUser
}

// InstanceRole is Pigsty's pg_role.
type InstanceRole string

const (
	RolePrimary InstanceRole = "primary"
	RoleReplica InstanceRole = "replica"
	RoleStandby InstanceRole = "standby"
	RoleOffline InstanceRole = "offline"
	RoleDelayed InstanceRole = "delayed"
)

// Instance is one PostgreSQL server of a cluster, keyed by IP as in Pigsty.
type Instance struct {
	Cluster      string
	Seq          int
	IP           string
	Role         InstanceRole
	OfflineQuery bool // pg_offline_query
	Port         int  // pg_port, default 5432
	PGVersion    int  // pg_version, the major Pigsty installs; 0 when not declared

	// HBA is pg_default_hba_rules followed by pg_hba_rules as resolved for
	// this host, in declaration order; rendering sorts and gates them.
	HBA []HBARule

	// Parameters is pg_parameters as resolved for this host, sorted by
	// name; when pg_libs is declared it appears here as
	// shared_preload_libraries.
	Parameters []Parameter

	// Pooler is the PgBouncer beside this instance (pgbouncer.go).
	Pooler Pooler
}

// Name is Pigsty's pg_instance: <pg_cluster>-<pg_seq>.
func (i *Instance) Name() string { return i.Cluster + "-" + strconv.Itoa(i.Seq) }

// Parameter is one server parameter (GUC) as written in the spec.
type Parameter struct {
	Name  string
	Value string // numbers and booleans rendered as PostgreSQL reads them ("on", "100ms", "256")
}

// RoleState is a user object's state field.
type RoleState string

const (
	StateCreate RoleState = "create"
	StateAbsent RoleState = "absent"
)

// Role is one entry of pg_default_roles or pg_users (Pigsty's user object).
type Role struct {
	Name     string
	State    RoleState
	Password Secret // zero = no opinion

	// Attributes: nil means "no opinion", leave the live value alone.
	Login, Superuser, CreateDB, CreateRole, Inherit, Replication, BypassRLS *bool

	ConnLimit *int
	ExpireIn  *int   // days from today; wins over ExpireAt
	ExpireAt  string // "YYYY-MM-DD" or "infinity"; "" = no opinion
	Comment   string // Pigsty's default "business user <name>" already applied

	MemberOf []Membership
	Settings []Setting // parameters, in declared order

	Pgbouncer     bool   // listed in userlist.txt (pg_users entries only, as in Pigsty)
	PoolMode      string // useropts.txt pool_mode; "" = none
	PoolConnLimit *int   // useropts.txt max_user_connections; nil = none

	System bool // declared in pg_default_roles
}

// Membership is one entry of a user's roles list: membership of this user in
// Role. Memberships are additive: only Revoke removes one.
type Membership struct {
	Role    string
	Revoke  bool    // state: revoke | absent
	Admin   OptBool // WITH ADMIN OPTION
	Set     OptBool // PG16+
	Inherit OptBool // PG16+
}

// Setting is a per-role or per-database parameter (ALTER … SET).
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Reset bool   `json:"reset,omitempty"` // value DEFAULT: RESET the parameter
}

// DatabaseState is a database object's state field.
type DatabaseState string

const (
	DatabaseCreate DatabaseState = "create"
	DatabaseAbsent DatabaseState = "absent"
)

// Database is one entry of pg_databases.
type Database struct {
	Name  string
	State DatabaseState
	Owner string // "" = no opinion

	// Creation-only options (CREATE DATABASE); not re-applied to an
	// existing database, as in Pigsty.
	Template, Strategy, Encoding, Locale, LCCollate, LCCtype string
	LocaleProvider, ICULocale, ICURules, BuiltinLocale       string

	Tablespace string
	IsTemplate *bool
	AllowConn  *bool
	RevokeConn *bool
	ConnLimit  *int
	Settings   []Setting
	Comment    string // default "business database <name>" applied

	Schemas    []Schema
	Extensions []Extension

	Baseline string // path of a SQL file, run when the database is created

	Pgbouncer          bool // listed in database.txt: default true; null is false, as Ansible's bool reads it
	PoolAuthUser       string
	PoolMode           string
	PoolSize           *int
	PoolSizeMin        *int
	PoolReserve        *int
	PoolConnLimit      *int
	RegisterDatasource bool // default true
}

// Schema is one entry of a database's schemas list.
type Schema struct {
	Name   string
	Owner  string
	Absent bool
}

// Extension is one entry of a database's extensions list.
type Extension struct {
	Name    string
	Schema  string
	Version string
	Absent  bool
}

// HBARule is one Pigsty HBA rule object.
type HBARule struct {
	User  string // default "all"; may be an alias like ${dbsu}
	DB    string // default "all"
	Addr  string // alias or IPv4[/mask]
	Auth  string // alias; default "pwd"
	Title string
	Role  string // default|common|primary|replica|offline|standby|delayed
	Order *int
	Rules []string // raw lines; when non-empty they win over the fields above

	Default bool // from pg_default_hba_rules
}
