package audit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
)

// normalize returns value as pg_settings would show it for st (a role's
// or database's setting is stored as written: '1s', 'true').
func normalize(name string, st Setting, value string) string {
	ls := &model.LiveSetting{Name: name, VarType: st.VarType, Unit: st.Unit, EnumVals: st.EnumVals}
	if n, err := pgconf.Normalize(value, ls); err == nil {
		return n
	}
	return value
}

// judgeParam judges a parameter by its server value and by every ALTER
// ROLE / ALTER DATABASE … SET of it: a role or database that turns an
// audit setting off escapes the audit.
func (s *Subject) judgeParam(name, want string, ok func(string) bool, pass string) Verdict {
	st, uv := s.setting(name)
	if uv != nil {
		return *uv
	}
	var v verdict
	if ok(st.Value) {
		v.fact(name, "%s", withUnit(st))
	} else {
		v.fail(name, withUnit(st), fmt.Sprintf("%s is %s, want %s", name, withUnit(st), want))
	}
	s.judgeOverrides(&v, name, st, ok)
	return v.done(pass)
}

// judgeOverrides fails the per-role and per-database settings of name
// that ok refuses.
func (s *Subject) judgeOverrides(v *verdict, name string, st Setting, ok func(string) bool) {
	for _, o := range s.Evidence.Overrides {
		if o.Name != name || ok(normalize(name, st, o.Value)) {
			continue
		}
		where := overrideTarget(o)
		v.fail(where, name+" = "+o.Value, fmt.Sprintf("%s sets %s = %s", where, name, o.Value))
	}
}

func overrideTarget(o Override) string {
	switch {
	case o.Role != "" && o.Database != "":
		return fmt.Sprintf("ALTER ROLE %s IN DATABASE %s", o.Role, o.Database)
	case o.Role != "":
		return "ALTER ROLE " + o.Role
	case o.Database != "":
		return "ALTER DATABASE " + o.Database
	}
	return "ALTER ROLE ALL"
}

func withUnit(st Setting) string {
	switch {
	case st.Value == "":
		return "''" // an empty list: log_connections off on 18, no libraries
	case st.Unit == "" || st.Value == "-1":
		return st.Value
	}
	return st.Value + " " + st.Unit
}

func is(want ...string) func(string) bool {
	return func(v string) bool {
		for _, w := range want {
			if strings.EqualFold(v, w) {
				return true
			}
		}
		return false
	}
}

func judgeLogStatement(s *Subject) Verdict {
	return s.judgeParam("log_statement", "ddl, mod or all", is("ddl", "mod", "all"), "DDL statements are logged")
}

func judgeLogDisconnections(s *Subject) Verdict {
	return s.judgeParam("log_disconnections", "on", is("on"), "session ends are logged, with their duration")
}

func judgeLogLockWaits(s *Subject) Verdict {
	return s.judgeParam("log_lock_waits", "on", is("on"), "lock waits longer than deadlock_timeout are logged")
}

func judgeLogReplicationCommands(s *Subject) Verdict {
	return s.judgeParam("log_replication_commands", "on", is("on"), "replication commands are logged")
}

func judgeLogMinDuration(s *Subject) Verdict {
	ok := func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= 0 && n <= 100
	}
	return s.judgeParam("log_min_duration_statement", "0 to 100 ms (the oltp template: 100)", ok, "statements slower than the threshold are logged")
}

// connectionAspects reads log_connections: a boolean before PostgreSQL
// 18, a list of aspects (receipt, authentication, authorization,
// setup_durations, all) from 18, where on means the first three.
func connectionAspects(v string) map[string]bool {
	out := map[string]bool{}
	for _, a := range strings.Split(strings.ToLower(v), ",") {
		switch a = strings.TrimSpace(a); a {
		case "on", "true", "yes", "1":
			out["receipt"], out["authentication"], out["authorization"] = true, true, true
		case "all":
			out["receipt"], out["authentication"], out["authorization"], out["setup_durations"] = true, true, true, true
		case "", "off", "false", "no", "0":
		default:
			out[a] = true
		}
	}
	return out
}

func judgeLogConnections(s *Subject) Verdict {
	if s.Evidence.Session.Version >= 180000 {
		ok := func(v string) bool {
			a := connectionAspects(v)
			return a["receipt"] && a["authentication"] && a["authorization"]
		}
		return s.judgeParam("log_connections", "receipt,authentication,authorization, or on or all (the crit template; a list from PostgreSQL 18)", ok,
			"every connection is logged: receipt, authentication and authorization")
	}
	return s.judgeParam("log_connections", "on (the crit template)", is("on"), "every connection is logged")
}

// logLevels are log_min_messages' values, least severe first.
var logLevels = []string{"debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice", "warning", "error", "log", "fatal", "panic"}

func levelRank(l string) int {
	for i, x := range logLevels {
		if x == strings.ToLower(l) {
			return i
		}
	}
	return -1
}

func judgeAuthFailuresLogged(s *Subject) Verdict {
	st, uv := s.setting("log_min_messages")
	if uv != nil {
		return *uv
	}
	var v verdict
	if r := levelRank(st.Value); r < 0 || r > levelRank("fatal") {
		v.fail("log_min_messages", st.Value, "log_min_messages "+st.Value+" drops FATAL messages: failed logins are not logged")
	} else {
		v.fact("log_min_messages", "%s", st.Value)
	}
	if d, ok := s.Evidence.Settings["log_destination"]; ok {
		v.fact("log_destination", "%s", d.Value)
	}
	if c, ok := s.Evidence.Settings["logging_collector"]; ok {
		v.fact("logging_collector", "%s", c.Value)
	}
	return v.done("failed logins are logged as FATAL messages (fail2ban or an alert can act on them)")
}

func judgeAuthDelay(s *Subject) Verdict {
	_, ok, uv := s.loaded("auth_delay")
	if uv != nil {
		return *uv
	}
	var v verdict
	spl := s.Evidence.Settings["shared_preload_libraries"].Value
	if !ok {
		v.fail("shared_preload_libraries", spl, "auth_delay is not loaded: failed logins are answered at once")
		return v.done("")
	}
	v.fact("shared_preload_libraries", "%s", spl)
	ms, uv := s.setting("auth_delay.milliseconds")
	if uv != nil {
		return *uv
	}
	if n, err := strconv.Atoi(ms.Value); err != nil || n <= 0 {
		v.fail("auth_delay.milliseconds", ms.Value, "auth_delay.milliseconds is "+ms.Value+": no delay")
	} else {
		v.fact("auth_delay.milliseconds", "%s", ms.Value)
	}
	return v.done("each failed login waits auth_delay.milliseconds before the answer")
}

// pgauditClasses reads pgaudit.log: a comma list of classes, each
// possibly negated with '-'.
func pgauditClasses(v string) map[string]bool {
	all := []string{"read", "write", "function", "role", "ddl", "misc", "misc_set"}
	out := map[string]bool{}
	for _, c := range strings.Split(strings.ToLower(v), ",") {
		c = strings.TrimSpace(c)
		neg := strings.HasPrefix(c, "-")
		c = strings.TrimPrefix(c, "-")
		set := []string{c}
		switch c {
		case "all":
			set = all
		case "none", "":
			continue
		}
		for _, x := range set {
			out[x] = !neg
		}
	}
	return out
}

func judgePgaudit(s *Subject) Verdict {
	_, ok, uv := s.loaded("pgaudit")
	if uv != nil {
		return *uv
	}
	if !ok {
		return notApplicable("pgaudit is not in shared_preload_libraries")
	}
	want := func(v string) bool {
		c := pgauditClasses(v)
		return c["ddl"] && c["role"]
	}
	r := s.judgeParam("pgaudit.log", "classes ddl and role at least (the reference: all)", want, "pgaudit logs DDL and role changes")
	for _, name := range []string{"pgaudit.log_catalog", "pgaudit.log_relation", "pgaudit.log_parameter"} {
		if st, ok := s.Evidence.Settings[name]; ok {
			r.Evidence = append(r.Evidence, Fact{Name: name, Value: st.Value})
		}
	}
	return r
}

func judgeLogFileMode(s *Subject) Verdict {
	c, uv := s.setting("logging_collector")
	if uv != nil {
		return *uv
	}
	if c.Value != "on" {
		return Verdict{Status: StatusUnknown, Why: "logging_collector is off: the server writes its log to stderr, protected by whatever captures it (journald, a file), which the server cannot show",
			Evidence: []Fact{{Name: "logging_collector", Value: c.Value}}}
	}
	st, uv := s.setting("log_file_mode")
	if uv != nil {
		return *uv
	}
	var v verdict
	v.fact("logging_collector", "on")
	if d, ok := s.Evidence.Settings["log_directory"]; ok {
		v.fact("log_directory", "%s", d.Value)
	}
	switch mode, err := strconv.ParseUint(st.Value, 8, 32); {
	case err != nil:
		v.fail("log_file_mode", st.Value, "log_file_mode "+st.Value+" is not an octal mode")
	case mode&0o037 != 0:
		v.fail("log_file_mode", st.Value, fmt.Sprintf("log files are created %04o: writable by the group or readable by others", mode))
	default:
		v.fact("log_file_mode", "%s", st.Value)
	}
	return v.done("log files are readable by the server's user and group only")
}
