package model

// PatroniSpec is what Pigsty's inventory says about the Patroni that runs a
// cluster, with Pigsty's defaults applied: its mode, its REST API's port,
// TLS and credentials.
type PatroniSpec struct {
	Enabled  bool   // patroni_enabled (default true)
	Mode     string // patroni_mode: default, pause or remove
	Port     int    // patroni_port (default 8008)
	SSL      bool   // patroni_ssl_enabled: the REST API speaks https
	Username string // patroni_username (default postgres)
	Password Secret // patroni_password (default Patroni.API)

	// Restart is the reconciler's restart policy for the cluster
	// (reconciler_restart): RestartNever (the default) or
	// RestartScheduled, which asks Patroni to restart each replica with a
	// pending restart in the next maintenance window, never the leader.
	Restart string
	// Window is the window's start, minutes after midnight UTC
	// (reconciler_restart_window "HH:MM", default 03:00).
	Window int
}

// Restart policies.
const (
	RestartNever     = "never"
	RestartScheduled = "scheduled"
)

// Pigsty's defaults of the patroni_* variables.
const (
	DefaultPatroniPort     = 8008
	DefaultPatroniUsername = "postgres"
	DefaultPatroniPassword = "Patroni.API"
	PatroniModeRemove      = "remove"
)

// Managed reports whether Patroni manages the cluster: it is enabled and
// its mode is not remove (Pigsty then leaves PostgreSQL without Patroni).
func (p PatroniSpec) Managed() bool { return p.Enabled && p.Mode != PatroniModeRemove }
