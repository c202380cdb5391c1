package model

import "time"

// The live side of a Patroni-managed cluster: what Patroni's REST API
// reports (PatroniCluster, PatroniStatus, PatroniConfig), what its own
// configuration file says (PatroniSettings), and the topology the reconciler
// derives from them, the catalog and the inventory (Topology).

// PatroniRole is a member's role as Patroni's GET /cluster lists it.
type PatroniRole string

const (
	PatroniLeader        PatroniRole = "leader"
	PatroniStandbyLeader PatroniRole = "standby_leader" // leader of a standby cluster: in recovery by design
	PatroniSyncStandby   PatroniRole = "sync_standby"
	PatroniQuorumStandby PatroniRole = "quorum_standby" // Patroni 4 quorum commit
	PatroniReplica       PatroniRole = "replica"
)

// Leads reports whether the member holds the leader key.
func (r PatroniRole) Leads() bool { return r == PatroniLeader || r == PatroniStandbyLeader }

// PatroniState is PostgreSQL's state as Patroni reports it: running,
// streaming (Patroni 4 replicas), starting, stopping, stopped, restarting,
// crashed, "creating replica", "start failed" …
type PatroniState string

// Running reports whether Patroni considers PostgreSQL up.
func (s PatroniState) Running() bool { return s == "running" || s == "streaming" }

// PatroniCluster is the cluster as GET /cluster shows it: the members
// Patroni knows from the DCS.
type PatroniCluster struct {
	Members             []PatroniMember // sorted by Name
	Paused              bool            // maintenance mode: Patroni neither fails over nor restarts
	ScheduledSwitchover *PatroniSwitchover
}

// Leader returns the member that holds the leader key, or nil.
func (c *PatroniCluster) Leader() *PatroniMember {
	for i := range c.Members {
		if c.Members[i].Role.Leads() {
			return &c.Members[i]
		}
	}
	return nil
}

// Member returns the member called name, or nil.
func (c *PatroniCluster) Member(name string) *PatroniMember {
	for i := range c.Members {
		if c.Members[i].Name == name {
			return &c.Members[i]
		}
	}
	return nil
}

// PatroniSwitchover is a switchover scheduled for later.
type PatroniSwitchover struct {
	At       time.Time
	From, To string // member names; either may be empty
}

// PatroniMember is one member as GET /cluster lists it.
type PatroniMember struct {
	Name   string // Pigsty's pg_instance
	Host   string // PostgreSQL's connect address
	Port   int
	APIURL string // its REST API's /patroni URL
	Role   PatroniRole
	State  PatroniState

	Timeline int
	// LagBytes is how far the member's WAL is behind the leader's; nil for
	// the leader and when Patroni says "unknown".
	LagBytes *int64

	PendingRestart   bool       // a changed parameter waits for a restart
	ScheduledRestart *time.Time // a restart Patroni will perform then
	NoFailover       bool       // tags.nofailover: never promoted
}

// PatroniStatus is one member's own report, GET /patroni on its REST API.
type PatroniStatus struct {
	State PatroniState
	// Role is "primary" (Patroni before 3.1 says "master"; the client
	// normalises), "replica" or "standby_leader".
	Role                string
	ServerVersion       int // server_version_num
	Timeline            int
	PostmasterStartTime time.Time
	PendingRestart      bool
	ScheduledRestart    *time.Time
	Paused              bool
	ClusterUnlocked     bool // no member holds the leader key
	FailsafeActive      bool
	Scope               string // the cluster name Patroni manages
	PatroniVersion      string
	SystemIdentifier    string
}

// PatroniConfig is the cluster's dynamic configuration in the DCS, GET
// /config: what `patronictl edit-config` (`pg edit-config`) edits.
type PatroniConfig struct {
	TTL, LoopWait, RetryTimeout int
	PrimaryStartTimeout         *int   // nil: Patroni's default (300 s)
	MaximumLagOnFailover        *int64 // bytes; nil: Patroni's default (1 MiB)
	SynchronousMode             bool
	SynchronousModeStrict       bool
	FailsafeMode                bool
	UsePgRewind, UseSlots       bool

	// Parameters is postgresql.parameters, sorted by name, values rendered
	// as PostgreSQL reads them ("on", "100", "64MB"). Patroni writes them
	// into postgresql.conf, and passes those of its command-line set
	// (max_connections, wal_level, max_wal_senders …) as postmaster
	// options, where they beat postgresql.auto.conf.
	Parameters []Parameter
}

// Parameter returns the value of a DCS parameter and whether it is set.
func (c *PatroniConfig) Parameter(name string) (string, bool) {
	for _, p := range c.Parameters {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// PatroniSettings are the settings of one member's Patroni that Pigsty
// manages and the security controls depend on, as observed: from the
// member's patroni.yml (restapi and ctl sections) and, where set, from
// probing its REST API. The REST password is never kept, only whether one
// is configured.
type PatroniSettings struct {
	Instance string

	// From patroni.yml.
	FromFile                bool // false when the file was not read
	Listen, ConnectAddress  string
	AuthConfigured          bool   // restapi.authentication has a username and a password
	Username                string // restapi.authentication.username
	SSL                     bool   // restapi.certfile is set: the REST API speaks https
	CertFile, CAFile        string
	VerifyClient            string   // none, optional, required ("" = none)
	Allowlist               []string // restapi.allowlist as written (IPs, CIDRs or host names)
	AllowlistIncludeMembers bool
	CtlInsecure             bool   // ctl.insecure: patronictl does not verify the REST API's certificate
	PgHBALines              int    // postgresql.pg_hba: lines Patroni writes into pg_hba.conf
	HBAFile                 string // postgresql.parameters.hba_file ("" = not set: Patroni owns pg_hba.conf when PgHBALines > 0)

	// From probing the REST API; nil when not probed.
	Probe *PatroniProbe
}

// PatroniProbe is what an unsafe REST endpoint answered the reconciler,
// without changing anything (see internal/patroni's Probe).
type PatroniProbe struct {
	SSL                 bool // the API answered on https
	Allowed             bool // the allowlist lets the reconciler's address in
	AuthEnforced        bool // a request without credentials was refused
	CredentialsAccepted bool // the reconciler's patroni_username/patroni_password were accepted
}

// CatalogRecovery is what the catalog of one instance says about its role:
// pg_is_in_recovery() on a session the reconciler opened.
type CatalogRecovery struct {
	Reachable  bool
	InRecovery bool
	Error      string // why it was not reachable; never holds a secret
}

// TopologySource says where a cluster's leader came from.
type TopologySource string

const (
	SourcePatroni TopologySource = "patroni" // Patroni's leader key, confirmed by the catalog
	SourceCatalog TopologySource = "catalog" // the one instance not in recovery (no Patroni view)
	SourceNone    TopologySource = ""        // no leader could be established
)

// Topology is who leads a cluster and which members run, established from
// Patroni's view with the catalog as fallback and cross-check, and compared
// with the inventory's pg_role. Disagreements are Findings; a leader is
// never guessed: Leader is empty when the sources do not establish one.
type Topology struct {
	Cluster string
	Managed bool // Patroni manages the cluster (patroni_mode is not remove)
	Source  TopologySource
	// Leader is the instance that cluster-wide changes go to, "" when
	// there is none to write to.
	Leader string
	// StandbyCluster is set when the leader is a standby leader: the
	// cluster replicates from elsewhere and takes no cluster-wide writes.
	StandbyCluster bool
	Members        []TopologyMember // inventory order, then members only Patroni knows
	Findings       []TopologyFinding
}

// Member returns the member for instance name, or nil.
func (t *Topology) Member(name string) *TopologyMember {
	for i := range t.Members {
		if t.Members[i].Instance == name {
			return &t.Members[i]
		}
	}
	return nil
}

// Running returns the names of the members that run, in Members order:
// where per-instance changes (HBA, instance parameters) go.
func (t *Topology) Running() []string {
	var out []string
	for _, m := range t.Members {
		if m.Running {
			out = append(out, m.Instance)
		}
	}
	return out
}

// TopologyMember is one instance as the inventory, Patroni and the catalog
// see it.
type TopologyMember struct {
	Instance      string // pg_instance / Patroni member name
	IP            string // the inventory's address, else Patroni's host
	Port          int
	InventoryRole InstanceRole     // "" when the inventory does not list it
	Patroni       *PatroniMember   // nil when Patroni does not list it
	Catalog       *CatalogRecovery // nil when not inspected
	Leader        bool
	// Running: the catalog answered, or (not inspected) Patroni says
	// PostgreSQL runs.
	Running bool
}

// TopologyFindingKind is what a topology finding is about.
type TopologyFindingKind string

const (
	// FindingPatroniUnreachable: no member's REST API answered; the leader
	// comes from the catalog alone.
	FindingPatroniUnreachable TopologyFindingKind = "patroni_unreachable"
	// FindingNoLeader: no member holds the leader key (a failover in
	// progress), or without Patroni no instance is out of recovery.
	FindingNoLeader TopologyFindingKind = "no_leader"
	// FindingLeaderInRecovery: Patroni's leader is in recovery by its own
	// catalog (a promotion not finished, or a split view).
	FindingLeaderInRecovery TopologyFindingKind = "leader_in_recovery"
	// FindingLeaderUnreachable: the leader's catalog could not be read.
	FindingLeaderUnreachable TopologyFindingKind = "leader_unreachable"
	// FindingExtraPrimary: an instance out of recovery that is not the
	// leader (a demotion not finished, a detached or split-brain primary),
	// or several of them without Patroni.
	FindingExtraPrimary TopologyFindingKind = "extra_primary"
	// FindingInventoryRole: the inventory's pg_role disagrees with the live
	// role (a switchover or failover since the inventory was written).
	FindingInventoryRole TopologyFindingKind = "inventory_role"
	// FindingNotMember: an inventory instance Patroni does not list.
	FindingNotMember TopologyFindingKind = "not_a_member"
	// FindingUnknownMember: a Patroni member the inventory does not list.
	FindingUnknownMember TopologyFindingKind = "unknown_member"
	// FindingMemberState: Patroni and the catalog disagree about whether a
	// member's PostgreSQL runs, or about its role.
	FindingMemberState TopologyFindingKind = "member_state"
	// FindingPaused: Patroni is in maintenance mode (patroni_mode: pause):
	// it neither fails over nor restarts.
	FindingPaused TopologyFindingKind = "paused"
)

// TopologyFinding is one disagreement between the inventory, Patroni and the
// catalog, or a state that keeps the reconciler from writing.
type TopologyFinding struct {
	Kind     TopologyFindingKind
	Instance string // "" when about the cluster
	Detail   string // for humans
}

// PatroniExpect is what the inventory says a member's Patroni settings must
// be: Pigsty's patroni_ssl_enabled, patroni_username and the allowlist it
// renders (admin_ip + pg_cluster_members + infra).
type PatroniExpect struct {
	SSL       bool
	Username  string
	Allowlist []string // IPs or CIDRs
	Members   []string // pg_cluster_members, covered by allowlist_include_members
}

// PatroniSettingKind is what a Patroni settings finding is about.
type PatroniSettingKind string

const (
	SettingAllowlistOpen    PatroniSettingKind = "allowlist_open"    // no allowlist: unsafe endpoints open to every address
	SettingAllowlistExtra   PatroniSettingKind = "allowlist_extra"   // an entry lets in more than the inventory allows
	SettingAllowlistMissing PatroniSettingKind = "allowlist_missing" // an address the inventory allows is not let in
	SettingAuthOff          PatroniSettingKind = "auth_off"          // no REST authentication configured, or not enforced
	SettingAuthUser         PatroniSettingKind = "auth_user"         // a username other than patroni_username
	SettingCredentials      PatroniSettingKind = "credentials"       // the inventory's credentials were refused
	SettingSSL              PatroniSettingKind = "ssl"               // https on or off against patroni_ssl_enabled
	SettingCtlInsecure      PatroniSettingKind = "ctl_insecure"      // patronictl skips certificate checks while SSL is on
	SettingNotAllowed       PatroniSettingKind = "not_allowed"       // the allowlist refuses the reconciler itself
	SettingPgHBA            PatroniSettingKind = "pg_hba"            // Patroni rewrites pg_hba.conf from postgresql.pg_hba
)

// PatroniSettingFinding is one difference between a member's observed
// Patroni settings and the inventory's.
type PatroniSettingFinding struct {
	Kind     PatroniSettingKind
	Instance string
	Detail   string // for humans; never holds a secret
}
