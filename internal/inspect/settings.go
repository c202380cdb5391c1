package inspect

import (
	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanSettings reads settings.sql, keyed by name.
func scanSettings(rows pgx.Rows) (map[string]*model.LiveSetting, error) {
	out := map[string]*model.LiveSetting{}
	var s model.LiveSetting
	_, err := pgx.ForEachRow(rows, []any{&s.Name, &s.Setting, &s.Unit, &s.Context, &s.VarType, &s.Source,
		&s.SourceFile, &s.BootVal, &s.ResetVal, &s.EnumVals, &s.MinVal, &s.MaxVal, &s.PendingRestart}, func() error {
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
// last row of each name: the one the server applies or fails to apply.
func scanFileSettings(rows pgx.Rows) (map[string]fileSettingRow, error) {
	out := map[string]fileSettingRow{}
	var name string
	var f fileSettingRow
	_, err := pgx.ForEachRow(rows, []any{&name, &f.value, &f.source, &f.applied, &f.error}, func() error {
		out[name] = f
		return nil
	})
	return out, err
}

// joinFileSettings fills the File* fields of each setting from the
// configuration files. A name in the files that the server does not know
// (a typo, an extension not loaded) has no pg_settings row and is left out.
func joinFileSettings(settings map[string]*model.LiveSetting, files map[string]fileSettingRow) map[string]*model.LiveSetting {
	for name, f := range files {
		s := settings[name]
		if s == nil {
			continue
		}
		value := f.value
		s.FileValue, s.FileSource, s.FileApplied, s.FileError = &value, f.source, f.applied, f.error
	}
	return settings
}
