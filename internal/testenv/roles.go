package testenv

import "crypto/rand"

// SystemRoles are Pigsty's system roles that the harnesses bootstrap, each
// with a new random password.
type SystemRoles struct {
	SuperUser, SuperPassword     string // dbuser_dba: SUPERUSER LOGIN
	ReplUser, ReplPassword       string // replicator: REPLICATION LOGIN
	MonitorUser, MonitorPassword string // dbuser_monitor: LOGIN, member of pg_monitor
}

// NewSystemRoles returns Pigsty's default role names with random passwords.
func NewSystemRoles() SystemRoles {
	return SystemRoles{
		SuperUser: "dbuser_dba", SuperPassword: rand.Text(),
		ReplUser: "replicator", ReplPassword: rand.Text(),
		MonitorUser: "dbuser_monitor", MonitorPassword: rand.Text(),
	}
}
