package pgconf

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// normalizeBool is parse_bool: unique case-insensitive prefixes of "true",
// "false", "yes", "no"; "on" and "of(f)"; exactly "1" or "0". No spaces.
func normalizeBool(value string, s *model.LiveSetting) (string, error) {
	if b, ok := parseBool(value); ok {
		return onOff(b), nil
	}
	return "", &Error{Param: s.Name, Message: `parameter "` + s.Name + `" requires a Boolean value`}
}

func parseBool(value string) (b, ok bool) {
	v := downcase(value)
	if v == "" {
		return false, false
	}
	switch v[0] {
	case 't':
		return true, strings.HasPrefix("true", v)
	case 'f':
		return false, strings.HasPrefix("false", v)
	case 'y':
		return true, strings.HasPrefix("yes", v)
	case 'n':
		return false, strings.HasPrefix("no", v)
	case 'o':
		switch {
		case v == "on":
			return true, true
		case v == "of" || v == "off":
			return false, true
		}
	case '1', '0':
		return v == "1", len(v) == 1
	}
	return false, false
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// normalizeEnum matches value case-insensitively against the enum's
// visible values and returns the name pg_settings shows for it. Enums that
// list both "on" and "off" also take PostgreSQL's hidden Boolean spellings
// (true, false, yes, no, 1, 0; whole words only). Other hidden values
// (wal_level's "archive", the message levels' "debug" …) are not in
// pg_settings and are refused: stricter than the server, never looser.
func normalizeEnum(value string, s *model.LiveSetting) (string, error) {
	v := downcase(value)
	for _, e := range s.EnumVals {
		if downcase(e) == v {
			return enumShown(s.Name, e), nil
		}
	}
	if major(s) < 14 && strings.EqualFold(s.Name, "password_encryption") {
		// PostgreSQL 13 still takes the Boolean spellings of before 10 as md5.
		switch v {
		case "on", "true", "yes", "1":
			return "md5", nil
		}
	}
	if hasOnOff(s.EnumVals) {
		switch v {
		case "true", "yes", "1":
			return enumShown(s.Name, "on"), nil
		case "false", "no", "0":
			return enumShown(s.Name, "off"), nil
		}
	}
	return "", invalidValue(s.Name, value, "Available values: "+strings.Join(s.EnumVals, ", ")+".")
}

func hasOnOff(vals []string) bool {
	on, off := false, false
	for _, v := range vals {
		on = on || v == "on"
		off = off || v == "off"
	}
	return on && off
}

// enumShown is the name pg_settings shows for a visible value: the first
// value in the enum's table with the same meaning. Only one visible
// synonym exists in PostgreSQL 15 (the oracle test sets every visible value
// of every session-settable enum to catch new ones).
func enumShown(param, value string) string {
	if strings.EqualFold(param, "wal_compression") && value == "on" {
		return "pglz"
	}
	return value
}
