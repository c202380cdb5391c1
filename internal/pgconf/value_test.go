package pgconf

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ param, value, want string }{
		// As PostgreSQL 15's pg_settings shows them (TestOracle checks
		// this package against a real server).
		{"shared_buffers", "1GB", "131072"},
		{"shared_buffers", "128MB", "16384"},
		{"work_mem", "1GB", "1048576"},
		{"work_mem", "1.5MB", "1536"},
		{"effective_cache_size", "1GB", "131072"},
		{"log_min_duration_statement", "100ms", "100"},
		{"log_min_duration_statement", "1.5s", "1500"},
		{"checkpoint_timeout", "2min", "120"},
		{"track_activity_query_size", "1kB", "1024"},
		{"statement_timeout", "100", "100"},
		// parse_int: rint (half to even), octal, hex, exponent, spaces.
		{"statement_timeout", "2.5", "2"},
		{"statement_timeout", "3.5", "4"},
		{"statement_timeout", "0x10", "16"},
		{"statement_timeout", "010", "8"},
		{"statement_timeout", "1e3", "1000"},
		{"statement_timeout", " 7 ", "7"},
		{"work_mem", "100 kB", "100"},
		{"statement_timeout", "1500us", "2"},
		{"log_rotation_age", "90s", "2"},
		{"log_rotation_age", "30s", "0"},
		{"effective_cache_size", "12288B", "2"},
		{"effective_cache_size", "20480B", "2"},
		// Reals: units without rounding to an integer; %g.
		{"vacuum_cost_delay", "100us", "0.1"},
		{"vacuum_cost_delay", "0.0015s", "2"},
		{"autovacuum_vacuum_cost_delay", "1.5", "1.5"},
		{"random_page_cost", "1.123456789", "1.12346"},
		{"random_page_cost", "1e-5", "1e-05"},
		{"random_page_cost", "1234567", "1.23457e+06"},
		// Booleans and enums.
		{"log_connections", "On", "on"},
		{"log_connections", "tru", "on"},
		{"log_connections", "of", "off"},
		{"log_connections", "0", "off"},
		{"log_statement", "DDL", "ddl"},
		{"synchronous_commit", "TRUE", "on"},
		{"synchronous_commit", "no", "off"},
		{"wal_compression", "on", "pglz"},
		{"wal_compression", "yes", "pglz"},
		{"archive_mode", "1", "on"},
		{"wal_level", "Logical", "logical"},
		// Strings and GUC_LIST_QUOTE lists.
		{"DateStyle", "iso, mdy", "iso, mdy"},
		{"search_path", `"$user", public`, `"$user", public`},
		{"search_path", "App ,  Public,user", `app, public, "user"`},
		{"search_path", `"My ""Schema""",x`, `"My ""Schema""", x`},
		{"search_path", "", `""`},
		{"temp_tablespaces", " ", `""`},
		{"shared_preload_libraries", "pg_stat_statements,auto_explain", "pg_stat_statements, auto_explain"},
		{"shared_preload_libraries", `"$libdir/My Lib" , Citus`, `"$libdir/My Lib", "Citus"`},
		{"shared_preload_libraries", "", ""},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.value, pg15(tt.param))
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q", tt.value, tt.param, got, err, tt.want)
		}
	}
}

func TestNormalizeRefusesLikePostgres(t *testing.T) {
	tests := []struct{ param, value, message, detail, hint string }{
		{"shared_buffers", "1 parsec", `invalid value for parameter "shared_buffers": "1 parsec"`, "", memoryHint},
		{"shared_buffers", "64kB", `8 8kB is outside the valid range for parameter "shared_buffers" (16 .. 1073741823)`, "", ""},
		{"max_connections", "0", `0 is outside the valid range for parameter "max_connections" (1 .. 262143)`, "", ""},
		{"max_connections", "100kB", `invalid value for parameter "max_connections": "100kB"`, "", ""},
		{"max_connections", "3000000000", `invalid value for parameter "max_connections": "3000000000"`, "", intRangeHint},
		{"checkpoint_timeout", "5 mins", `invalid value for parameter "checkpoint_timeout": "5 mins"`, "", timeHint},
		{"checkpoint_timeout", "10", `10 s is outside the valid range for parameter "checkpoint_timeout" (30 .. 86400)`, "", ""},
		{"statement_timeout", "1kB", `invalid value for parameter "statement_timeout": "1kB"`, "", timeHint},
		{"statement_timeout", "nan", `invalid value for parameter "statement_timeout": "nan"`, "", ""},
		{"statement_timeout", "-.5", `invalid value for parameter "statement_timeout": "-.5"`, "", ""},
		{"random_page_cost", "-1", `-1 is outside the valid range for parameter "random_page_cost" (0 .. 1.79769e+308)`, "", ""},
		{"random_page_cost", "1e400", `invalid value for parameter "random_page_cost": "1e400"`, "", ""},
		{"vacuum_cost_delay", "1s", `1000 ms is outside the valid range for parameter "vacuum_cost_delay" (0 .. 100)`, "", ""},
		{"log_statement", "everything", `invalid value for parameter "log_statement": "everything"`, "", "Available values: none, ddl, mod, all."},
		{"log_statement", "true", `invalid value for parameter "log_statement": "true"`, "", "Available values: none, ddl, mod, all."},
		{"log_connections", "o", `parameter "log_connections" requires a Boolean value`, "", ""},
		{"log_connections", " on", `parameter "log_connections" requires a Boolean value`, "", ""},
		{"search_path", `"unterminated`, `invalid value for parameter "search_path": ""unterminated"`, "List syntax is invalid.", ""},
		{"search_path", "a,,b", `invalid value for parameter "search_path": "a,,b"`, "List syntax is invalid.", ""},
	}
	for _, tt := range tests {
		_, err := Normalize(tt.value, pg15(tt.param))
		var e *Error
		if !errors.As(err, &e) || e.Message != tt.message || e.Detail != tt.detail || e.Hint != tt.hint || e.Param != tt.param {
			t.Errorf("Normalize(%q, %s) error = %#v; want message %q, detail %q, hint %q", tt.value, tt.param, err, tt.message, tt.detail, tt.hint)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := []struct{ param, value string }{
		{"shared_buffers", "1GB"},
		{"search_path", ""},
		{"shared_preload_libraries", ""},
		{"primary_conninfo", "host=a password=x"},
	}
	for _, tt := range ok {
		if err := Validate(tt.value, pg15(tt.param)); err != nil {
			t.Errorf("Validate(%q, %s) = %v", tt.value, tt.param, err)
		}
	}
	bad := []struct{ param, value, message string }{
		{"block_size", "8192", `parameter "block_size" cannot be changed`},
		{"primary_conninfo", "host=a\npassword=x", "parameter value for ALTER SYSTEM must not contain a newline"},
		{"shared_preload_libraries", `""`, `invalid value for parameter "shared_preload_libraries": """"`},
		{"shared_preload_libraries", `pg_stat_statements, ""`, `invalid value for parameter "shared_preload_libraries": "pg_stat_statements, """`},
		{"unix_socket_directories", "", `invalid value for parameter "unix_socket_directories": ""`},
		{"wal_level", "archive", `invalid value for parameter "wal_level": "archive"`},
	}
	for _, tt := range bad {
		err := Validate(tt.value, pg15(tt.param))
		var e *Error
		if !errors.As(err, &e) || e.Message != tt.message {
			t.Errorf("Validate(%q, %s) = %v; want %q", tt.value, tt.param, err, tt.message)
		}
	}
	if err := Validate("x", nil); !errors.Is(err, ErrUnknownParameter) {
		t.Errorf("Validate(nil setting) = %v, want ErrUnknownParameter", err)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		param, a, b string
		want        bool
	}{
		{"work_mem", "1GB", "1048576", true},
		{"work_mem", "1024MB", "1GB", true},
		{"work_mem", "4MB", "4097kB", false},
		{"shared_buffers", "16384", "128MB", true},
		{"log_connections", "on", "true", true},
		{"log_connections", "on", "off", false},
		{"wal_compression", "on", "pglz", true},
		{"random_page_cost", "1.1", "1.10", true},
		{"search_path", "a,b", `A, "b"`, true},
		{"search_path", `"A"`, "a", false},
		{"search_path", "", `""`, true},
		{"shared_preload_libraries", "a,b", "a, b", true},
		{"shared_preload_libraries", "", `""`, false},
		{"DateStyle", "ISO, MDY", "iso, mdy", false},
		{"shared_buffers", "lots", "lots", true},
		{"shared_buffers", "lots", "1GB", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b, pg15(tt.param)); got != tt.want {
			t.Errorf("Equal(%q, %q, %s) = %v, want %v", tt.a, tt.b, tt.param, got, tt.want)
		}
	}
}

func TestQuoteValue(t *testing.T) {
	tests := []struct{ param, value, want string }{
		{"work_mem", "64MB", "'64MB'"},
		{"primary_conninfo", `host=a password='x\y'`, `E'host=a password=''x\\y'''`},
		{"shared_preload_libraries", "pg_stat_statements, auto_explain", "'pg_stat_statements', 'auto_explain'"},
		{"Shared_Preload_Libraries", `"$libdir/it's"`, `'$libdir/it''s'`},
		{"search_path", `"$user", Public`, "'$user', 'public'"},
		{"search_path", "", "''"},
		{"temp_tablespaces", "", "''"},
		{"shared_preload_libraries", " ", "DEFAULT"},
		{"search_path", `"broken`, `'"broken'`},
		{"DateStyle", "ISO, DMY", "'ISO, DMY'"},
	}
	for _, tt := range tests {
		if got := QuoteValue(tt.param, tt.value); got != tt.want {
			t.Errorf("QuoteValue(%s, %q) = %s, want %s", tt.param, tt.value, got, tt.want)
		}
	}
}

func TestContexts(t *testing.T) {
	tests := []struct {
		param                                  string
		restart, reload, newSessions, readOnly bool
	}{
		{"shared_buffers", true, false, false, false},
		{"checkpoint_timeout", false, true, false, false},
		{"log_connections", false, true, true, false},
		{"work_mem", false, true, false, false},
		{"log_statement", false, true, false, false},
		{"block_size", false, false, false, true},
	}
	for _, tt := range tests {
		s := pg15(tt.param)
		if RequiresRestart(s) != tt.restart || Reloadable(s) != tt.reload ||
			NewSessionsOnly(s) != tt.newSessions || ReadOnly(s) != tt.readOnly {
			t.Errorf("%s (%s): restart %v reload %v new sessions %v read-only %v", tt.param, s.Context,
				RequiresRestart(s), Reloadable(s), NewSessionsOnly(s), ReadOnly(s))
		}
	}
}

func TestMaySecret(t *testing.T) {
	for name, want := range map[string]bool{
		"primary_conninfo": true, "Archive_Command": true, "ssl_passphrase_command": true,
		"shared_buffers": false, "password_encryption": false, "primary_slot_name": false,
	} {
		if got := MaySecret(name); got != want {
			t.Errorf("MaySecret(%s) = %v", name, got)
		}
	}
}
