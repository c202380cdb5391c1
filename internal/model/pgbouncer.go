package model

// Pooler is the PgBouncer that Pigsty runs beside an instance, as that
// host's variables configure it (pigsty-model.md §2.5, §5), with Pigsty's
// defaults applied. What goes into its files from the cluster's users and
// databases (pgbouncer, pool_mode, pool_* fields) lives on Role and
// Database.
type Pooler struct {
	Enabled bool   // pgbouncer_enabled (true): Pigsty runs a PgBouncer on the host
	Port    int    // pgbouncer_port (6432)
	SSLMode string // pgbouncer_sslmode (disable): client_tls_sslmode

	// AuthQuery is pgbouncer_auth_query (false): business users are then
	// looked up through auth_query and left out of userlist.txt; the dbsu,
	// the monitor and the admin stay in it.
	AuthQuery bool

	// RedirectTo is pgbouncer_redirect_to. Pigsty's pgbouncer.database
	// template reads it but never uses it: database.txt keeps
	// host=<Localhost>. It is kept so that the spec checks can say so.
	RedirectTo string

	// Localhost is pg_localhost (/var/run/postgresql): the host= of every
	// database.txt entry, the instance's Unix socket directory.
	Localhost string

	// HBA is pgb_default_hba_rules followed by pgb_hba_rules as resolved
	// for this host, in declaration order (HBARule.Default marks the
	// former); rendering sorts and gates them as for pg_hba.conf.
	HBA []HBARule
}

// PoolerState is what a live PgBouncer holds: its admin console's view
// (SHOW CONFIG, SHOW USERS, SHOW DATABASES) and the content of the four
// files Pigsty renders, as read from its host.
type PoolerState struct {
	Instance string // <cluster>-<seq> of the instance it pools for
	Addr     string
	Port     int

	Version string            // SHOW VERSION, e.g. "PgBouncer 1.18.0"
	Config  map[string]string // SHOW CONFIG: key → value, as the admin console prints it

	Users     []PoolerUser     // SHOW USERS, in the order shown (by name)
	Databases []PoolerDatabase // SHOW DATABASES, the admin database pgbouncer included

	// The files, each with the path it was read from; a file that was not
	// read (no reader given, not found, not readable) says why in Err.
	Userlist PoolerSecretFile // userlist.txt: verifiers, so a Secret
	Useropts PoolerFile       // useropts.txt
	Database PoolerFile       // database.txt
	HBA      PoolerFile       // pgb_hba.conf
}

// PoolerUser is a row of SHOW USERS. PgBouncer 1.18 shows name and
// pool_mode only; MaxUserConnections is set when the pooler shows it
// (1.19 and later).
type PoolerUser struct {
	Name               string
	PoolMode           string // "" when the user has none of its own
	MaxUserConnections *int
}

// PoolerDatabase is a row of SHOW DATABASES: the values in force, the
// pooler's defaults filled in where database.txt sets none.
type PoolerDatabase struct {
	Name        string
	Host        string
	Port        int
	Database    string // the server's database name
	ForceUser   string // auth_user/user= of the entry
	PoolSize    int
	MinPoolSize int
	ReservePool int
	PoolMode    string // "" when the database has none of its own

	// MaxConnections is max_db_connections (0 = no limit);
	// CurrentConnections the server connections open now.
	MaxConnections, CurrentConnections int
	Paused, Disabled                   bool
}

// PoolerFile is one of the pooler's configuration files as read from its
// host.
type PoolerFile struct {
	Path string
	Text string
	Err  string // why it was not read; Text is then ""
}

// PoolerSecretFile is userlist.txt as read from its host: its content
// holds SCRAM verifiers and md5 hashes, credentials, so it is a Secret.
type PoolerSecretFile struct {
	Path    string
	Content Secret
	Err     string
}
