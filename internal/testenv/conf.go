package testenv

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// confMarker starts the harness's block at the end of postgresql.conf;
// everything after it is rewritten when a replica gets its own settings.
const confMarker = "# ---- pgreconciler testenv settings (rewritten by the harness) ----"

// defaultHBA is the pg_hba.conf every server starts with and Reset restores.
const defaultHBA = `# pg_hba.conf: the pgreconciler test harness default (internal/testenv).
# Cluster.Reset restores this file on every server.
# TYPE  DATABASE     USER        ADDRESS        METHOD
local   all          all                        trust
local   replication  all                        trust
host    replication  replicator  127.0.0.0/8    scram-sha-256
host    all          all         127.0.0.0/8    scram-sha-256
host    all          all         ::1/128        scram-sha-256
`

// baseSettings are the test settings shared by every instance.
func baseSettings(clusterName, certFile, keyFile string) map[string]string {
	return map[string]string{
		"cluster_name":                     clusterName,
		"ssl":                              "on",
		"ssl_cert_file":                    certFile,
		"ssl_key_file":                     keyFile,
		"password_encryption":              "scram-sha-256",
		"log_statement":                    "all",
		"log_min_duration_statement":       "0",
		"log_min_error_statement":          "error",
		"logging_collector":                "off",
		"log_line_prefix":                  "%m [%p] %q%u@%d %a: ",
		"shared_preload_libraries":         "pg_stat_statements",
		"pg_stat_statements.track_utility": "on",
		"wal_level":                        "replica",
		"max_wal_senders":                  "10",
		"wal_keep_size":                    "256MB",
		"hot_standby":                      "on",
		"fsync":                            "off",
		"synchronous_commit":               "off",
		"full_page_writes":                 "off",
	}
}

// writeConf rewrites the harness block of dataDir/postgresql.conf with
// settings (sorted by name), keeping everything initdb wrote above it.
func writeConf(a runas.Account, dataDir string, settings map[string]string) error {
	path := filepath.Join(dataDir, "postgresql.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read postgresql.conf: %w", err)
	}
	text, _, _ := strings.Cut(string(old), confMarker)
	var b strings.Builder
	b.WriteString(strings.TrimRight(text, "\n"))
	b.WriteString("\n\n" + confMarker + "\n")
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		fmt.Fprintf(&b, "%s = %s\n", name, confValue(settings[name]))
	}
	if err := a.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	return nil
}

// confValue quotes a postgresql.conf value; every setting type accepts a
// quoted value.
func confValue(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// passfileLine is a libpq password file line matching every host, port and
// database for user.
func passfileLine(user, password string) string {
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	return "*:*:*:" + esc.Replace(user) + ":" + esc.Replace(password) + "\n"
}
