package config

// Patroni turns on reading and driving Patroni for the clusters it
// manages (Pigsty's patroni_enabled, and patroni_mode other than remove):
// the leader from its REST API, reloads through POST /reload, pending
// restarts and its REST settings reported. The REST API's port, SSL and
// credentials come from the inventory's patroni_* variables.
type Patroni struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// CAFile verifies the REST API's certificate when patroni_ssl_enabled
	// (Pigsty's /pg/cert/ca.crt); empty means the system's roots.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// ConfigPath is where each member's patroni.yml is on its host, read
	// with the hba writer (local or ssh) for the settings check;
	// "{instance}" stands for pg_instance. Empty: the settings are only
	// probed through the REST API.
	ConfigPath string   `yaml:"config_path" json:"config_path"`
	Timeout    Duration `yaml:"timeout" json:"timeout"`
}
