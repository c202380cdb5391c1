package patronienv

import (
	"fmt"
	"maps"
	"net"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The patroni.yml the harness writes has the shape of Pigsty's templates
// (roles/pgsql/templates/oltp.yml): the same sections in the same order,
// REST basic auth and allowlist, an etcd3 DCS under namespace /pg/, Pigsty's
// replication and rewind user, no pg_hba section (Pigsty writes pg_hba.conf
// itself), and the DCS bootstrap parameters of the template that matter for
// a test. Sizes and timings are scaled down for a test machine.

type patroniConfig struct {
	Namespace string         `yaml:"namespace"`
	Name      string         `yaml:"name"`
	Scope     string         `yaml:"scope"`
	Log       logConfig      `yaml:"log"`
	Etcd3     etcdConfig     `yaml:"etcd3"`
	RestAPI   restConfig     `yaml:"restapi"`
	Ctl       ctlConfig      `yaml:"ctl"`
	Tags      map[string]any `yaml:"tags"`
	Watchdog  map[string]any `yaml:"watchdog"`
	Bootstrap bootstrap      `yaml:"bootstrap"`
	Postgres  pgConfig       `yaml:"postgresql"`
}

type logConfig struct {
	Level      string `yaml:"level"`
	DateFormat string `yaml:"dateformat"`
	Format     string `yaml:"format"`
}

type etcdConfig struct {
	Hosts    string `yaml:"hosts"`
	Protocol string `yaml:"protocol"`
}

type restConfig struct {
	Listen         string            `yaml:"listen"`
	ConnectAddress string            `yaml:"connect_address"`
	CACert         string            `yaml:"cacert,omitempty"`
	CertFile       string            `yaml:"certfile,omitempty"`
	KeyFile        string            `yaml:"keyfile,omitempty"`
	VerifyClient   string            `yaml:"verify_client,omitempty"`
	Authentication map[string]string `yaml:"authentication"`
	Allowlist      []string          `yaml:"allowlist"`
}

type ctlConfig struct {
	Insecure bool   `yaml:"insecure"`
	CACert   string `yaml:"cacert,omitempty"`
	CertFile string `yaml:"certfile,omitempty"`
	KeyFile  string `yaml:"keyfile,omitempty"`
}

type bootstrap struct {
	Method string         `yaml:"method"`
	Initdb []any          `yaml:"initdb"`
	DCS    map[string]any `yaml:"dcs"`
}

type pgConfig struct {
	BinDir               string            `yaml:"bin_dir"`
	DataDir              string            `yaml:"data_dir"`
	ConfigDir            string            `yaml:"config_dir"`
	PGPass               string            `yaml:"pgpass"`
	Listen               string            `yaml:"listen"`
	ConnectAddress       string            `yaml:"connect_address"`
	UseUnixSocket        bool              `yaml:"use_unix_socket"`
	Parameters           map[string]string `yaml:"parameters"`
	Authentication       map[string]any    `yaml:"authentication"`
	UsePgRewind          bool              `yaml:"use_pg_rewind"`
	RemoveDataOnRewind   bool              `yaml:"remove_data_directory_on_rewind_failure"`
	RemoveDataOnDiverged bool              `yaml:"remove_data_directory_on_diverged_timelines"`
	CreateReplicaMethods []string          `yaml:"create_replica_methods"`
	Basebackup           []any             `yaml:"basebackup"`
}

// Timings of the DCS: Patroni's minimum ttl, a short loop, and
// primary_start_timeout 0 so that a crashed primary fails over within a loop
// instead of being restarted in place (what a failover test needs).
const (
	ttl                 = 20
	loopWait            = 2
	retryTimeout        = 5
	primaryStartTimeout = 0
)

// dcsParameters are bootstrap.dcs.postgresql.parameters: Pigsty's oltp
// template where it matters (wal_level logical, wal_log_hints for
// pg_rewind, SSL with Pigsty's certificate layout, scram, its preloaded
// libraries), small sizes, fsync off for speed (a killed postmaster loses
// nothing that was written; synchronous_commit stays on), and DDL logged
// as Pigsty logs it (so a password in CREATE/ALTER ROLE would show).
func (c *Cluster) dcsParameters() map[string]any {
	p := map[string]any{
		"max_connections":                     100,
		"max_locks_per_transaction":           64,
		"max_prepared_transactions":           0,
		"track_commit_timestamp":              "on",
		"wal_level":                           "logical",
		"wal_log_hints":                       "on",
		"max_worker_processes":                8,
		"max_wal_senders":                     10,
		"max_replication_slots":               10,
		"wal_keep_size":                       "128MB",
		"hot_standby":                         "on",
		"password_encryption":                 "scram-sha-256",
		"ssl":                                 "on",
		"ssl_cert_file":                       c.tls.Cert,
		"ssl_key_file":                        c.tls.Key,
		"ssl_ca_file":                         c.tls.CA,
		"shared_buffers":                      "64MB",
		"shared_preload_libraries":            "pg_stat_statements, auto_explain",
		"fsync":                               "off",
		"logging_collector":                   "off",
		"log_line_prefix":                     "%m [%p] %q%u@%d %a: ",
		"log_statement":                       "ddl",
		"log_min_error_statement":             "error",
		"log_replication_commands":            "on",
		"hot_standby_feedback":                "on",
		"wal_receiver_status_interval":        "1s",
		"idle_in_transaction_session_timeout": "10min",
	}
	for k, v := range c.opts.Parameters {
		p[k] = v
	}
	return p
}

// config renders m's patroni.yml.
func (c *Cluster) config(m *Member) ([]byte, error) {
	api := net.JoinHostPort(m.Addr, strconv.Itoa(m.APIPort))
	pg := net.JoinHostPort(m.Addr, strconv.Itoa(m.Port))
	rest := restConfig{
		Listen:         api,
		ConnectAddress: api,
		Authentication: map[string]string{"username": c.APIUser, "password": c.APIPassword},
		Allowlist:      c.allowlist(),
	}
	ctl := ctlConfig{Insecure: true}
	if c.opts.SSL {
		rest.CACert, rest.CertFile, rest.KeyFile, rest.VerifyClient = c.tls.CA, c.tls.Cert, c.tls.Key, "none"
		ctl = ctlConfig{CACert: c.tls.CA, CertFile: c.tls.Cert, KeyFile: c.tls.Key}
	}
	repl := map[string]string{"username": c.ReplUser, "password": c.ReplPassword}
	cfg := patroniConfig{
		Namespace: "/pg/",
		Name:      m.Name(),
		Scope:     c.Name,
		Log:       logConfig{Level: "INFO", DateFormat: "%Y-%m-%d %H:%M:%S %z", Format: "%(asctime)s %(levelname)s: %(message)s"},
		Etcd3:     etcdConfig{Hosts: c.etcd.hostPort(), Protocol: "http"},
		RestAPI:   rest,
		Ctl:       ctl,
		Tags:      map[string]any{"nofailover": false, "clonefrom": true, "noloadbalance": false, "nosync": false, "version": "15", "conf": "oltp.yml"},
		Watchdog:  map[string]any{"mode": "off"},
		Bootstrap: bootstrap{
			Method: "initdb",
			Initdb: []any{"data-checksums", map[string]string{"encoding": "UTF8"}, map[string]string{"locale": "C.UTF-8"}, "no-sync"},
			DCS: map[string]any{
				"ttl":                     ttl,
				"loop_wait":               loopWait,
				"retry_timeout":           retryTimeout,
				"primary_start_timeout":   primaryStartTimeout,
				"maximum_lag_on_failover": 1048576,
				"maximum_lag_on_syncnode": -1,
				"synchronous_mode":        c.opts.SynchronousMode,
				"synchronous_mode_strict": false,
				"failsafe_mode":           true,
				"pg_version":              15,
				"pg_cluster":              c.Name,
				"postgresql": map[string]any{
					"use_slots":     true,
					"use_pg_rewind": true,
					"remove_data_directory_on_rewind_failure": true,
					"parameters": c.dcsParameters(),
				},
			},
		},
		Postgres: pgConfig{
			BinDir:         c.binDir,
			DataDir:        m.DataDir,
			ConfigDir:      m.DataDir,
			PGPass:         m.dir + "/pgpass",
			Listen:         pg,
			ConnectAddress: pg,
			UseUnixSocket:  true,
			Parameters:     map[string]string{"unix_socket_directories": m.SocketDir},
			Authentication: map[string]any{
				"superuser":   map[string]string{"username": "postgres"},
				"replication": maps.Clone(repl),
				"rewind":      maps.Clone(repl),
			},
			UsePgRewind:          true,
			RemoveDataOnRewind:   true,
			CreateReplicaMethods: []string{"basebackup"},
			Basebackup:           []any{map[string]string{"checkpoint": "fast"}},
		},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render patroni.yml of %s: %w", m.Name(), err)
	}
	return append([]byte("# patroni.yml of "+m.Name()+", written by internal/testenv/patronienv in the shape of Pigsty's oltp.yml\n"), b...), nil
}

// allowlist is restapi.allowlist: the option's, or Pigsty's pg_allow_list
// (admin_ip + pg_cluster_members + infra), where the admin node is
// 127.0.0.1, the address loopback clients connect from.
func (c *Cluster) allowlist() []string {
	if c.opts.Allowlist != nil {
		return c.opts.Allowlist
	}
	list := []string{AdminIP}
	for _, m := range c.members {
		if m.Addr != AdminIP {
			list = append(list, m.Addr)
		}
	}
	return list
}
