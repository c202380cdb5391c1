package inspect

import (
	"maps"
	"testing"
)

// TestParseCommandLine reads postmaster.opts as the postmaster writes it
// for pg_ctl (Debian's pg_ctlcluster: -c config_file=…), Patroni
// (--name=value) and by hand.
func TestParseCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		values     map[string]string
		unknown    string
	}{
		{"program alone", "/usr/lib/postgresql/15/bin/postgres\n", map[string]string{}, ""},
		{"pg_ctlcluster",
			`/usr/lib/postgresql/15/bin/postgres "-D" "/var/lib/postgresql/15/main" "-c" "config_file=/etc/postgresql/15/main/postgresql.conf"` + "\n",
			map[string]string{"config_file": "/etc/postgresql/15/main/postgresql.conf"}, ""},
		{"patroni",
			`/usr/pgsql/bin/postgres "-D" "/pg/data" "--config-file=/pg/data/postgresql.conf" "--listen_addresses=10.10.10.11,127.0.0.1" "--port=5432" "--cluster_name=pg-test" "--max_connections=500" "--hot_standby=on"`,
			map[string]string{"config_file": "/pg/data/postgresql.conf", "listen_addresses": "10.10.10.11,127.0.0.1",
				"port": "5432", "cluster_name": "pg-test", "max_connections": "500", "hot_standby": "on"}, ""},
		{"case and dashes, last one wins", `/opt/pg bin/postgres "-c" "Work_Mem=8MB" "--work-mem=16MB" "-cstatement_timeout=5s"`,
			map[string]string{"work_mem": "16MB", "statement_timeout": "5s"}, ""},
		{"one-letter options", `postgres "-B" "128MB" "-S4MB" "-Fi" "-p" "5433" "-D/data"`,
			map[string]string{"shared_buffers": "128MB", "work_mem": "4MB", "fsync": "off", "listen_addresses": "*", "port": "5433"}, ""},
		{"a value with spaces and an equals sign", `postgres "-c" "search_path=a, b" "--primary_conninfo=host=x user=y"`,
			map[string]string{"search_path": "a, b", "primary_conninfo": "host=x user=y"}, ""},
		{"debug level: not interpreted", `postgres "-d" "3" "-c" "work_mem=1MB"`, map[string]string{"work_mem": "1MB"}, "-d"},
		{"a flag that sets several parameters", `postgres "-fs"`, map[string]string{}, "-fs"},
		{"a name without a value", `postgres "--work_mem"`, map[string]string{}, "--work_mem"},
		{"a positional argument", `postgres "-D" "/data" "extra"`, map[string]string{}, "extra"},
		{"an option missing its argument", `postgres "-c"`, map[string]string{}, "-c"},
		{"not quoted as expected", `postgres "-D`, map[string]string{}, `"-D`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseCommandLine(tc.text)
			if !maps.Equal(c.values, tc.values) || c.unknown != tc.unknown {
				t.Errorf("got %v, unknown %q; want %v, unknown %q", c.values, c.unknown, tc.values, tc.unknown)
			}
		})
	}
}
