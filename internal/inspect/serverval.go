package inspect

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
)

// serverSource reports whether a pg_settings.source value says the session
// got the value from the server's configuration. Every other source
// (client, session, user, database, database user, global, interactive …)
// is the session's own: its startup packet, SET, or ALTER ROLE / ALTER
// DATABASE … SET, which a new session of another role, or to another
// database, does not get.
func serverSource(source string) bool {
	switch source {
	case "default", "environment variable", "configuration file", "command line", "override":
		return true
	}
	return false
}

// dynamicDefault reports whether the server computes the default of a
// parameter a session can set at start (PGC_S_DYNAMIC_DEFAULT in guc.c,
// PostgreSQL 15), so that boot_val is not what a new session gets.
func dynamicDefault(name string) bool {
	switch strings.ToLower(name) {
	case "client_encoding", "max_stack_depth", "timezone_abbreviations", "timezone":
		return true
	}
	return false
}

// confLoad is whether the server runs the configuration files as they are
// on disk (conf_files.sql).
type confLoad struct {
	unreadable          int // files pg_stat_file may not read, or gone
	newest, loaded, now time.Time
}

// scanConfLoad reads conf_files.sql.
func scanConfLoad(rows pgx.Rows) (*confLoad, error) {
	var l confLoad
	var newest *time.Time
	_, err := pgx.ForEachRow(rows, []any{&l.unreadable, &newest, &l.loaded, &l.now}, func() error { return nil })
	if newest != nil {
		l.newest = *newest
	}
	return &l, err
}

// serverConf is what the server's value of a setting is worked out from
// when the session's value is its own: the configuration files, when they
// were last loaded, and the postmaster's command line. A nil field was
// not readable by user.
type serverConf struct {
	user     string
	reloaded bool                      // the session processed a reload after it started
	files    map[string]fileSettingRow // by lower-case name: the last row of each
	load     *confLoad
	cmdline  *commandLine
}

// fill joins the configuration files into the settings (File* fields) and
// gives each setting the server's value (see model.LiveSetting).
func (c *serverConf) fill(settings map[string]*model.LiveSetting) map[string]*model.LiveSetting {
	for _, s := range settings {
		if f, ok := c.files[strings.ToLower(s.Name)]; ok {
			value := f.value
			s.FileValue, s.FileSource, s.FileApplied, s.FileError = &value, f.source, f.applied, f.error
		}
		c.resolve(s)
	}
	return settings
}

// resolve replaces a session's own value of s with the server's. A value
// of a backend or superuser-backend parameter is fixed when the session
// starts, so it is the session's own too once the session has processed a
// reload.
func (c *serverConf) resolve(s *model.LiveSetting) {
	if serverSource(s.Source) && !(pgconf.NewSessionsOnly(s) && c.reloaded) {
		return
	}
	s.SessionSetting, s.SessionSource = s.Setting, s.Source
	v := c.serverValue(s)
	if v.unknown != "" {
		s.Setting, s.Source, s.SourceFile, s.Unknown, s.Unloaded = "", "", "", v.unknown, v.unloaded
		return
	}
	if n, err := pgconf.Normalize(v.value, s); err == nil {
		v.value = n // as pg_settings would show it; a value it cannot read compares as written
	}
	s.Setting, s.Source, s.SourceFile = v.value, v.source, v.file
}

// serverVal is a server's value of a setting, and where it comes from; or
// why it cannot be told.
type serverVal struct {
	value, source, file string
	unknown             string
	unloaded            bool // unknown only for files modified after the last reload
}

func unknown(format string, args ...any) serverVal {
	return serverVal{unknown: fmt.Sprintf(format, args...)}
}

// serverValue is the value a new session gets from the server's
// configuration, by precedence: the postmaster's command line, the last
// row of the configuration files (postgresql.auto.conf is read last), the
// built-in default.
func (c *serverConf) serverValue(s *model.LiveSetting) serverVal {
	name := strings.ToLower(s.Name)
	switch {
	case c.cmdline == nil:
		return unknown("the postmaster's command line (postmaster.opts, pg_read_file) is not readable by %s, "+
			"and a value given there overrides the configuration files", c.user)
	case c.cmdline.unknown != "":
		return unknown("the postmaster's command line holds %q, which the reconciler does not interpret", c.cmdline.unknown)
	}
	if v, ok := c.cmdline.values[name]; ok {
		return serverVal{value: v, source: "command line"}
	}
	switch {
	case c.files == nil || c.load == nil:
		return unknown("pg_file_settings is not readable by %s", c.user)
	case c.load.unreadable > 0:
		return unknown("pg_stat_file may not read every configuration file for %s: cannot tell whether the server has loaded them", c.user)
	case c.load.newest.After(c.load.now):
		return unknown("a configuration file was modified in the future (%s; a clock that stepped back?): "+
			"cannot tell whether the server has loaded it", c.load.newest.Format(time.RFC3339))
	case c.load.newest.After(c.load.loaded):
		v := unknown("a configuration file was modified after the last reload: the server may not run what the files say")
		v.unloaded = true
		return v
	}
	if f, ok := c.files[name]; ok {
		if f.error != "" {
			return unknown("%s holds a value the server does not apply (%s)", f.source, f.error)
		}
		return serverVal{value: f.value, source: "configuration file", file: f.source}
	}
	if dynamicDefault(name) {
		return unknown("the server computes its default at start, and this session runs a value of its own")
	}
	return serverVal{value: s.BootVal, source: "default"}
}
