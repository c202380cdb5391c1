package pgconf

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// sessionValues sets parameters a session may set (user and superuser
// context) with set_config in a rolled-back transaction.
func (o *oracle) sessionValues(t *testing.T) {
	cases := []struct{ param, value string }{
		{"work_mem", "1GB"},                     // kB
		{"work_mem", "1.5MB"},                   // kB, fractional
		{"maintenance_work_mem", "256MB"},       // kB
		{"temp_file_limit", "10GB"},             // kB, superuser
		{"effective_cache_size", "1GB"},         // 8kB
		{"backend_flush_after", "512kB"},        // 8kB
		{"log_parameter_max_length", "2kB"},     // B
		{"log_min_duration_statement", "100ms"}, // ms, superuser
		{"log_min_duration_statement", "1.5s"},  // ms
		{"statement_timeout", "30s"},            // ms
		{"statement_timeout", "1h"},             // ms
		{"idle_in_transaction_session_timeout", "10min"},
		{"lock_timeout", "1500us"}, // ms, 1.5 rounds to 2
		{"lock_timeout", "2500us"}, // ms, 2.5 rounds to 2
		{"idle_session_timeout", "1d"},
		{"vacuum_cost_delay", "100us"},   // real ms
		{"vacuum_cost_delay", "0.0015s"}, // real ms, rounded to the ms
		{"random_page_cost", "1.1"},
		{"random_page_cost", "1.123456789"},
		{"seq_page_cost", "1e-5"},
		{"geqo_selection_bias", "1.75"},
		{"extra_float_digits", "0x2"},
		{"vacuum_freeze_table_age", "1e8"},
		{"commit_delay", "10"}, // superuser, unitless
		{"log_statement", "DDL"},
		{"synchronous_commit", "true"},
		{"wal_compression", "on"},
		{"password_encryption", "SCRAM-SHA-256"},
		{"enable_seqscan", "of"},
		{"jit", "yes"},
		{"DateStyle", "ISO, DMY"},
		{"application_name", "  spaced  "},
	}
	if o.major < 14 { // no idle_session_timeout
		cases = slices.DeleteFunc(cases, func(c struct{ param, value string }) bool { return c.param == "idle_session_timeout" })
	}
	for _, tc := range cases {
		s := o.setting(t, tc.param)
		shown, err := o.sessionSet(t, s.Name, tc.value)
		if err != nil {
			t.Errorf("%s = %q: the server refuses: %v", tc.param, tc.value, err)
			continue
		}
		compare(t, s, tc.value, shown, nil)
	}
}

// numbers feeds awkward numbers to one session parameter per type and unit.
func (o *oracle) numbers(t *testing.T) {
	params := []string{
		"extra_float_digits",       // integer, no unit, narrow range
		"from_collapse_limit",      // integer, no unit
		"effective_cache_size",     // integer 8kB
		"log_parameter_max_length", // integer B
		"work_mem",                 // integer kB
		"temp_file_limit",          // integer kB from -1
		"lock_timeout",             // integer ms
		"random_page_cost",         // real, no unit
		"geqo_selection_bias",      // real, narrow range
		"vacuum_cost_delay",        // real ms
	}
	inputs := []string{
		"0", "1", "2", "-1", "3", "100", "0x10", "0X1f", "010", "08", "0x", "1e3", "1.5e1", "1E2",
		".5", "-.5", "5.", " 7", "7 ", "\t7\n", "1_000", "1,5", "0x1p4", "0x1.8p1", "inf", "-inf",
		"nan", "Infinity", "1e400", "1e-400", "1e-310", "2.5", "3.5", "-2.5", "0.5", "1.5",
		"99999999999999999999", "2147483647", "2147483648", "-2147483648", "-2147483649",
		"1kB", "1 kB", "1kb", "1KB", "1Mb", "1.5MB", "1.0001GB", "0.5kB", "8kB", "1TB", "1024TB",
		"4096B", "12288B", "1B", "1min", "1 min ", "1minx", "1 h", "1d", "1us", "1500us", "2500us",
		"1.5ms", "0.0015s", "1s", "90s", "1ms", "1 ms", "1 m s", "1 parsec", "", " ", "+5", "- 5",
	}
	for _, p := range params {
		s := o.setting(t, p)
		for _, in := range inputs {
			shown, err := o.sessionSet(t, s.Name, in)
			compare(t, s, in, shown, err)
		}
	}
}

func (o *oracle) booleans(t *testing.T) {
	s := o.setting(t, "enable_seqscan")
	for _, in := range []string{"on", "off", "ON", "Off", "true", "tru", "t", "T", "f", "fa", "FALSE",
		"yes", "ye", "y", "n", "no", "1", "0", "of", "o", "", " on", "on ", "2", "00", "01", "yes!",
		"onn", "offf", "truee", "nope"} {
		shown, err := o.sessionSet(t, s.Name, in)
		compare(t, s, in, shown, err)
	}
}

// enums tries every visible value of every enum, the hidden Boolean
// spellings and a bogus value: session-settable ones with set_config (the
// display must match), the others with ALTER SYSTEM (acceptance and
// wording must match).
func (o *oracle) enums(t *testing.T) {
	var names []string
	for name, s := range o.settings {
		if s.VarType == "enum" && s.Context != ctxInternal && name != "transaction_isolation" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		s := o.settings[name]
		inputs := append(slices.Clone(s.EnumVals), "true", "FALSE", "yes", "no", "1", "0", "t", "of", "bogus")
		for _, v := range s.EnumVals {
			inputs = append(inputs, strings.ToUpper(v))
		}
		for _, in := range inputs {
			if s.Context == ctxUser || s.Context == ctxSuperuser {
				shown, err := o.sessionSet(t, s.Name, in)
				compare(t, s, in, shown, err)
				continue
			}
			err := o.alterSystem(s.Name, QuoteValue(s.Name, in))
			_, ours := Normalize(in, s)
			switch {
			case err == nil:
				o.exec(t, "ALTER SYSTEM RESET "+pgx.Identifier{s.Name}.Sanitize())
				if ours != nil {
					t.Errorf("%s = %q: ALTER SYSTEM accepts, Normalize refuses: %v", s.Name, in, ours)
				}
			case ours == nil:
				t.Errorf("%s = %q: Normalize accepts, ALTER SYSTEM refuses: %v", s.Name, in, err)
			default:
				sameRefusal(t, s.Name, in, ours, err)
			}
		}
	}
}

// refusals: values both Validate and the server refuse, in the same words.
// ALTER SYSTEM is the judge, as it is for apply; the list syntax check,
// which ALTER SYSTEM never sees (QuoteValue quotes the elements), is
// judged by set_config.
func (o *oracle) refusals(t *testing.T) {
	cases := []struct{ param, value string }{
		{"shared_buffers", "1 parsec"},
		{"shared_buffers", "64kB"},
		{"shared_buffers", "lots"},
		{"max_connections", "0"},
		{"max_connections", "100kB"},
		{"max_connections", "3000000000"},
		{"work_mem", "1PB"},
		{"work_mem", "32kB"},
		{"checkpoint_timeout", "5 mins"},
		{"checkpoint_timeout", "10"},
		{"log_rotation_age", "100000000"},
		{"statement_timeout", "-1"},
		{"random_page_cost", "-1"},
		{"random_page_cost", "nan"},
		{"autovacuum_vacuum_cost_delay", "1s"},
		{"vacuum_cost_delay", "1kB"},
		{"log_statement", "everything"},
		{"wal_level", "hot"},
		{"huge_pages", "maybe"},
		{"log_connections", "maybe"},
		{"enable_seqscan", " on"},
		{"block_size", "8192"},
		{"log_line_prefix", "a\nb"},
		{"search_path", `"unterminated`},
		{"search_path", "a,,b"},
	}
	if o.major >= 18 { // log_connections lists aspects
		cases = append(cases, struct{ param, value string }{"log_connections", "receipt,,authentication"},
			struct{ param, value string }{"log_connections", "on,receipt"},
			struct{ param, value string }{"log_connections", "receipt, authorisation"})
	}
	for _, tc := range cases {
		s := o.setting(t, tc.param)
		ours := Validate(tc.value, s)
		if ours == nil {
			t.Errorf("%s = %q: Validate accepts", tc.param, tc.value)
			continue
		}
		var theirs error
		if _, list := listParamOf(tc.param, o.major); list {
			_, theirs = o.sessionSet(t, s.Name, tc.value)
		} else {
			theirs = o.alterSystem(s.Name, QuoteSetting(tc.value, s))
		}
		if theirs == nil {
			o.exec(t, "ALTER SYSTEM RESET "+pgx.Identifier{s.Name}.Sanitize())
			t.Errorf("%s = %q: the server accepts, Validate refuses: %v", tc.param, tc.value, ours)
			continue
		}
		sameRefusal(t, s.Name, tc.value, ours, theirs)
	}
}

// stricter: values ALTER SYSTEM writes but Validate refuses, on purpose.
func (o *oracle) stricter(t *testing.T) {
	cases := []struct {
		param, value string // value as Validate sees it
		literal      string // what a naive caller would send
		stored       string // what ALTER SYSTEM then stores
	}{
		// community.postgresql #744: the next start fails to load library "".
		{"shared_preload_libraries", `""`, "''", `""`},
		{"unix_socket_directories", "", "''", `""`},
		// A hidden synonym pg_settings does not list.
		{"wal_level", "archive", "'archive'", "archive"},
	}
	if o.major < 14 { // unix_socket_directories is one string: '' stores ''
		cases = slices.Delete(cases, 1, 2)
	}
	for _, tc := range cases {
		if err := Validate(tc.value, o.setting(t, tc.param)); err == nil {
			t.Errorf("%s = %q: Validate accepts", tc.param, tc.value)
		}
		if err := o.alterSystem(tc.param, tc.literal); err != nil {
			t.Errorf("%s = %s: ALTER SYSTEM refuses: %v", tc.param, tc.literal, err)
			continue
		}
		if got := o.fileSetting(t, tc.param); got != tc.stored {
			t.Errorf("%s = %s: ALTER SYSTEM stored %q, want %q", tc.param, tc.literal, got, tc.stored)
		}
		o.exec(t, "ALTER SYSTEM RESET "+pgx.Identifier{tc.param}.Sanitize())
	}
}

// flattening shows what ALTER SYSTEM stores for list literals: a single
// literal is one quoted element, which is why QuoteValue writes one literal
// per element, and how QuoteValue writes empty lists.
func (o *oracle) flattening(t *testing.T) {
	cases := []struct{ param, sql, stored string }{
		{"shared_preload_libraries", "'a, b'", `"a, b"`},
		{"shared_preload_libraries", "'a,b'", `"a,b"`},
		{"shared_preload_libraries", QuoteValue("shared_preload_libraries", "a,b"), "a, b"},
		{"shared_preload_libraries", QuoteValue("shared_preload_libraries", ""), "<none>"},
		{"search_path", QuoteValue("search_path", ""), `""`},
		{"search_path", QuoteValue("search_path", `"$user",Public`), `"$user", public`},
	}
	for _, tc := range cases {
		if err := o.alterSystem(tc.param, tc.sql); err != nil {
			t.Errorf("%s = %s: %v", tc.param, tc.sql, err)
			continue
		}
		if got := o.fileSetting(t, tc.param); got != tc.stored {
			t.Errorf("%s = %s: stored %q, want %q", tc.param, tc.sql, got, tc.stored)
		}
		o.exec(t, "ALTER SYSTEM RESET "+pgx.Identifier{tc.param}.Sanitize())
	}
}

// fileValues writes values with ALTER SYSTEM SET name = QuoteValue(…),
// as apply does, then reloads (or restarts, for postmaster parameters) and
// reads pg_settings from a new session. A parameter appears once per
// round.
func (o *oracle) fileValues(t *testing.T) {
	cases := []struct{ param, value string }{
		{"checkpoint_timeout", "2min"},                  // s
		{"checkpoint_timeout", "1h"},                    // s
		{"autovacuum_naptime", "90s"},                   // s
		{"autovacuum_vacuum_cost_delay", "1.5ms"},       // real ms
		{"log_rotation_age", "90s"},                     // min, 1.5 rounds to 2
		{"log_rotation_age", "1d"},                      // min
		{"log_rotation_size", "100MB"},                  // kB
		{"max_wal_size", "4GB"},                         // MB
		{"min_wal_size", "1GB"},                         // MB
		{"wal_writer_flush_after", "1MB"},               // 8kB
		{"bgwriter_delay", "0.5s"},                      // ms
		{"log_autovacuum_min_duration", "1s"},           // ms
		{"checkpoint_completion_target", "0.75"},        // real
		{"autovacuum_vacuum_scale_factor", "0.05"},      // real
		{"log_connections", "on"},                       // superuser-backend bool
		{"search_path", `"$user", public, Mixed`},       // list, user
		{"search_path", `app,  "Weird Name", "select"`}, // list, user
		{"temp_tablespaces", ""},                        // empty identifier list
		{"DateStyle", "ISO, DMY"},                       // plain string list
		{"shared_buffers", "256MB"},                     // postmaster 8kB
		{"shared_buffers", "1.5MB"},                     // postmaster 8kB
		{"max_connections", "150"},                      // postmaster, unitless
		{"wal_buffers", "4MB"},                          // postmaster 8kB
		{"track_activity_query_size", "2kB"},            // postmaster B
		{"shared_preload_libraries", "pg_stat_statements, auto_explain"},
		{"shared_preload_libraries", `pg_stat_statements,"auto_explain"`},
		{"wal_level", "LOGICAL"},
		{"huge_pages", "false"},
		{"archive_mode", "yes"},
	}
	if o.major >= 18 {
		cases = append(cases, struct{ param, value string }{"log_connections", "receipt, Authentication"},
			struct{ param, value string }{"md5_password_warnings", "off"},
			struct{ param, value string }{"log_lock_failures", "on"})
	}
	var rounds [][]int
	for i, tc := range cases {
		r := 0
		for ; r < len(rounds); r++ {
			if !slices.ContainsFunc(rounds[r], func(j int) bool { return strings.EqualFold(cases[j].param, tc.param) }) {
				break
			}
		}
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	for _, round := range rounds {
		restart := false
		for _, i := range round {
			s := o.setting(t, cases[i].param)
			if err := Validate(cases[i].value, s); err != nil {
				t.Errorf("%s = %q: Validate: %v", s.Name, cases[i].value, err)
			}
			if err := o.alterSystem(s.Name, QuoteSetting(cases[i].value, s)); err != nil {
				t.Fatalf("%s = %s: %v", s.Name, QuoteValue(s.Name, cases[i].value), err)
			}
			restart = restart || RequiresRestart(s)
		}
		before := o.settings
		o.apply(t, restart)
		for _, i := range round {
			tc := cases[i]
			compare(t, before[strings.ToLower(tc.param)], tc.value, o.setting(t, tc.param).Setting, nil)
		}
		o.exec(t, "ALTER SYSTEM RESET ALL")
	}
	o.apply(t, true)
}

// apply makes the configuration files live and reconnects.
func (o *oracle) apply(t *testing.T, restart bool) {
	t.Helper()
	o.conn.Close(context.Background())
	o.conn = nil
	if restart {
		if err := o.srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := o.srv.Start(); err != nil {
			t.Fatal(err)
		}
	} else if err := o.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	o.connect(t)
}
