package pgconf

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// pg15 returns pg_settings rows of a PostgreSQL 15.18 server (name, type,
// unit, context, range or enum values, boot value) for the pure tests; the
// oracle test reads the real ones.
func pg15(name string) *model.LiveSetting {
	rows := map[string]string{
		"archive_mode":                 "enum||postmaster|||always,on,off|off",
		"autovacuum_vacuum_cost_delay": "real|ms|sighup|-1|100||2",
		"block_size":                   "integer||internal|8192|8192||8192",
		"checkpoint_timeout":           "integer|s|sighup|30|86400||300",
		"DateStyle":                    "string||user||||ISO, MDY",
		"effective_cache_size":         "integer|8kB|user|1|2147483647||524288",
		"extra_float_digits":           "integer||user|-15|3||1",
		"geqo_selection_bias":          "real||user|1.5|2||2",
		"log_connections":              "bool||superuser-backend||||off",
		"log_min_duration_statement":   "integer|ms|superuser|-1|2147483647||-1",
		"log_rotation_age":             "integer|min|sighup|0|35791394||1440",
		"log_statement":                "enum||superuser|||none,ddl,mod,all|none",
		"max_connections":              "integer||postmaster|1|262143||100",
		"primary_conninfo":             "string||sighup||||",
		"random_page_cost":             "real||user|0|1.79769e+308||4",
		"search_path":                  `string||user||||"$user", public`,
		"shared_buffers":               "integer|8kB|postmaster|16|1073741823||16384",
		"shared_preload_libraries":     "string||postmaster||||",
		"statement_timeout":            "integer|ms|user|0|2147483647||0",
		"synchronous_commit":           "enum||user|||local,remote_write,remote_apply,on,off|on",
		"temp_tablespaces":             "string||user||||",
		"track_activity_query_size":    "integer|B|postmaster|100|1048576||1024",
		"unix_socket_directories":      "string||postmaster||||/var/run/postgresql",
		"vacuum_cost_delay":            "real|ms|user|0|100||0",
		"wal_compression":              "enum||superuser|||pglz,lz4,zstd,on,off|off",
		"wal_level":                    "enum||postmaster|||minimal,replica,logical|replica",
		"work_mem":                     "integer|kB|user|64|2147483647||4096",
	}
	row, ok := rows[name]
	if !ok {
		panic("no fixture for " + name)
	}
	f := strings.Split(row, "|")
	s := &model.LiveSetting{Name: name, VarType: f[0], Unit: f[1], Context: f[2],
		MinVal: f[3], MaxVal: f[4], BootVal: f[6], Setting: f[6]}
	if f[5] != "" {
		s.EnumVals = strings.Split(f[5], ",")
	}
	return s
}
