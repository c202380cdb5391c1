package inspect

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanSettings reads settings.sql, keyed by name.
func scanSettings(rows pgx.Rows) (map[string]*model.LiveSetting, error) {
	out := map[string]*model.LiveSetting{}
	var s model.LiveSetting
	_, err := pgx.ForEachRow(rows, []any{&s.Name, &s.Setting, &s.Unit, &s.Context, &s.VarType, &s.Source,
		&s.SourceFile, &s.BootVal, &s.ResetVal, &s.EnumVals, &s.MinVal, &s.MaxVal, &s.PendingRestart, &s.Version}, func() error {
		setting := s
		out[setting.Name] = &setting
		return nil
	})
	return out, err
}

// fileSettingRow is a row of pg_file_settings.
type fileSettingRow struct {
	value, source, error string
	applied              bool
}

// scanFileSettings reads file_settings.sql (in seqno order), keeping the
// last row of each name, by lower-case name: the one the server applies or
// fails to apply.
func scanFileSettings(rows pgx.Rows) (map[string]fileSettingRow, error) {
	out := map[string]fileSettingRow{}
	var name string
	var f fileSettingRow
	_, err := pgx.ForEachRow(rows, []any{&name, &f.value, &f.source, &f.applied, &f.error}, func() error {
		out[strings.ToLower(name)] = f
		return nil
	})
	return out, err
}

// queueSettings adds to b the queries for the settings (all of them when
// name is nil, else the one named, in any case) and for what their server
// values are worked out from, as far as the session may read it.
func queueSettings(b *pgx.Batch, s *session, name any, settings *map[string]*model.LiveSetting, conf *serverConf) {
	conf.user, conf.reloaded = s.info.User, s.reloaded
	queue(b, "settings", into(settings, scanSettings), name)
	if s.fileConf {
		queue(b, "file_settings", into(&conf.files, scanFileSettings), name)
		queue(b, "conf_files", into(&conf.load, scanConfLoad), s.dataDir)
	}
	if s.optsReadable {
		queue(b, "postmaster_opts", into(&conf.cmdline, scanCommandLine))
	}
}

// ReadSetting reads the parameter called name (in any case) as Inspect
// does, with the server's value (see model.LiveSetting), in two round
// trips; nil when the server has no such parameter. conn must be idle.
func ReadSetting(ctx context.Context, conn *pgx.Conn, name string) (*model.LiveSetting, error) {
	s, err := readSession(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("read setting %s: %w", name, err)
	}
	var settings map[string]*model.LiveSetting
	var conf serverConf
	b := &pgx.Batch{}
	queueSettings(b, s, name, &settings, &conf)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read setting %s: %w", name, err)
	}
	for _, ls := range conf.fill(settings) {
		return ls, nil // lower(name) is unique in pg_settings
	}
	return nil, nil
}
