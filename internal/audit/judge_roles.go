package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// liveRoles returns the roles by name, or an unknown verdict.
func (s *Subject) liveRoles() (map[string]*Role, *Verdict) {
	if s.Evidence.Roles == nil {
		v := unknown("the roles were not read: %s", s.Evidence.Unread["roles"])
		return nil, &v
	}
	m := make(map[string]*Role, len(s.Evidence.Roles))
	for i := range s.Evidence.Roles {
		m[s.Evidence.Roles[i].Name] = &s.Evidence.Roles[i]
	}
	return m, nil
}

// declared returns the spec's role called name unless it is absent.
func (s *Subject) declared(name string) *model.Role {
	r := s.Cluster.Role(name)
	if r == nil || r.State == model.StateAbsent {
		return nil
	}
	return r
}

// memberOf reports whether role is a member of group, directly or through
// other roles, on the live server (a role is a member of itself).
func memberOf(roles map[string]*Role, role, group string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(r string) bool {
		if r == group {
			return true
		}
		if seen[r] {
			return false
		}
		seen[r] = true
		if lr := roles[r]; lr != nil {
			for _, m := range lr.MemberOf {
				if walk(m) {
					return true
				}
			}
		}
		return false
	}
	return walk(role)
}

func judgeRolesDeclared(s *Subject) Verdict {
	if _, uv := s.liveRoles(); uv != nil {
		return *uv
	}
	var v verdict
	n := 0
	for _, r := range s.Evidence.Roles {
		if !r.Login {
			continue
		}
		n++
		switch sr := s.Cluster.Role(r.Name); {
		case sr == nil:
			v.fail(r.Name, "LOGIN, not in the spec", r.Name+" can log in but the spec does not declare it")
		case sr.State == model.StateAbsent:
			v.fail(r.Name, "LOGIN, state: absent in the spec", r.Name+" can log in but the spec wants it removed")
		default:
			v.fact(r.Name, "LOGIN, declared")
		}
	}
	return v.done(fmt.Sprintf("all %d login roles are declared in the spec", n))
}

func judgePasswordEncryption(s *Subject) Verdict {
	st, uv := s.setting("password_encryption")
	if uv != nil {
		return *uv
	}
	var v verdict
	if st.Value == "scram-sha-256" {
		v.fact("password_encryption", "%s", st.Value)
	} else {
		v.fail("password_encryption", st.Value, "new passwords are hashed with "+st.Value+", not scram-sha-256")
	}
	return v.done("new passwords are hashed with SCRAM-SHA-256")
}

func judgeLoginVerifiers(s *Subject) Verdict {
	if s.Evidence.Roles == nil {
		return unknown("the roles were not read: %s", s.Evidence.Unread["roles"])
	}
	if !s.Evidence.Verifiers {
		return unknown("password types were not read: %s", s.Evidence.Unread["verifiers"])
	}
	var v verdict
	counts := map[string]int{}
	for _, r := range s.Evidence.Roles {
		if !r.Login {
			continue
		}
		counts[r.Verifier]++
		switch r.Verifier {
		case "md5", "plaintext":
			v.fail(r.Name, r.Verifier, r.Name+"'s password is stored as "+r.Verifier)
		}
	}
	for _, k := range []string{"scram-sha-256", "none"} {
		if counts[k] > 0 {
			v.fact("login roles with "+k, "%d", counts[k])
		}
	}
	return v.done("every login role's password is a SCRAM-SHA-256 verifier, or it has none")
}

func judgePasswordCheck(s *Subject) Verdict {
	lib, ok, uv := s.loaded("passwordcheck", "credcheck")
	if uv != nil {
		return *uv
	}
	st := s.Evidence.Settings["shared_preload_libraries"]
	var v verdict
	if !ok {
		v.fail("shared_preload_libraries", st.Value, "neither passwordcheck nor credcheck is loaded: the server accepts any password")
		return v.done("")
	}
	v.fact("shared_preload_libraries", "%s", st.Value)
	for _, name := range sortedKeys(s.Evidence.Settings) {
		if strings.HasPrefix(name, "credcheck.") || strings.HasPrefix(name, "passwordcheck.") {
			v.fact(name, "%s", s.Evidence.Settings[name].Value)
		}
	}
	return v.done(lib + " checks every new password")
}

func judgeLoginExpiry(s *Subject) Verdict {
	if s.Evidence.Roles == nil {
		return unknown("the roles were not read: %s", s.Evidence.Unread["roles"])
	}
	now := s.Evidence.Session.Now
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var v verdict
	checked := 0
	for _, r := range s.Evidence.Roles {
		if !r.Login {
			continue
		}
		live := describeValidUntil(r)
		if s.Cluster.Globals.Protected(r.Name) {
			v.fact(r.Name, "system user, exempt (valid until %s)", live)
			continue
		}
		checked++
		sr := s.declared(r.Name)
		switch {
		case r.ValidUntil == nil:
			v.fail(r.Name, "valid until "+live, r.Name+" never expires")
		case r.ValidUntil.Before(now):
			v.fact(r.Name, "expired %s (cannot log in)", live)
		case sr != nil && sr.ExpireIn != nil:
			limit := today.AddDate(0, 0, *sr.ExpireIn+1)
			if r.ValidUntil.After(limit) {
				v.fail(r.Name, fmt.Sprintf("valid until %s, expire_in %d", live, *sr.ExpireIn),
					fmt.Sprintf("%s expires after today + expire_in %d days", r.Name, *sr.ExpireIn))
			} else {
				v.fact(r.Name, "valid until %s (expire_in %d)", live, *sr.ExpireIn)
			}
		case sr != nil && sr.ExpireAt == "infinity":
			v.fail(r.Name, "expire_at: infinity", r.Name+" is declared never to expire")
		case sr != nil && sr.ExpireAt != "":
			if r.ValidUntil.UTC().Format("2006-01-02") != sr.ExpireAt {
				v.fail(r.Name, fmt.Sprintf("valid until %s, expire_at %s", live, sr.ExpireAt),
					fmt.Sprintf("%s expires %s, not on expire_at %s", r.Name, live, sr.ExpireAt))
			} else {
				v.fact(r.Name, "valid until %s (expire_at %s)", live, sr.ExpireAt)
			}
		default:
			v.fact(r.Name, "valid until %s (the spec sets no expiry)", live)
		}
	}
	if checked == 0 {
		return v.done("no login role other than the system users (exempt, as in the spec's login-expiry policy)")
	}
	return v.done(fmt.Sprintf("all %d login roles other than the system users expire", checked))
}

func describeValidUntil(r Role) string {
	switch {
	case r.Infinity:
		return "infinity"
	case r.ValidUntil == nil:
		return "never (NULL)"
	}
	return r.ValidUntil.UTC().Format("2006-01-02 15:04:05Z")
}

// serverFileRoles are the predefined roles that reach the server's files
// and programs: as good as superuser.
var serverFileRoles = []string{"pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"}

func judgePrivilegedRoles(s *Subject) Verdict {
	if _, uv := s.liveRoles(); uv != nil {
		return *uv
	}
	var v verdict
	yes := func(b *bool) bool { return b != nil && *b }
	for _, r := range s.Evidence.Roles {
		sr := s.declared(r.Name)
		spec := func(b func(*model.Role) *bool) bool { return sr != nil && yes(b(sr)) }
		if r.Superuser {
			if spec(func(m *model.Role) *bool { return m.Superuser }) {
				v.fact(r.Name, "SUPERUSER (declared)")
			} else {
				v.fail(r.Name, "SUPERUSER, not declared", r.Name+" is a superuser the spec does not declare")
			}
			continue // a superuser holds every other power anyway
		}
		for _, a := range []struct {
			name string
			live bool
			want func(*model.Role) *bool
		}{
			{"CREATEROLE", r.CreateRole, func(m *model.Role) *bool { return m.CreateRole }},
			{"BYPASSRLS", r.BypassRLS, func(m *model.Role) *bool { return m.BypassRLS }},
			{"REPLICATION", r.Replication, func(m *model.Role) *bool { return m.Replication }},
		} {
			switch {
			case !a.live:
			case spec(a.want):
				v.fact(r.Name, "%s (declared)", a.name)
			default:
				v.fail(r.Name, a.name+", not declared", r.Name+" holds "+a.name+" the spec does not declare")
			}
		}
		for _, g := range serverFileRoles {
			if !slices.Contains(r.MemberOf, g) {
				continue
			}
			if sr != nil && declaresMembership(sr, g) {
				v.fact(r.Name, "member of %s (declared)", g)
			} else {
				v.fail(r.Name, "member of "+g+", not declared", r.Name+" is a member of "+g+" the spec does not declare")
			}
		}
	}
	return v.done("every privileged attribute and server-file role is held as the spec declares")
}

func declaresMembership(r *model.Role, group string) bool {
	for _, m := range r.MemberOf {
		if m.Role == group && !m.Revoke {
			return true
		}
	}
	return false
}

func judgeRoleTiers(s *Subject) Verdict {
	roles, uv := s.liveRoles()
	if uv != nil {
		return *uv
	}
	var v verdict
	tiers := map[string]bool{}
	for _, r := range s.Cluster.Roles {
		if r.State != model.StateAbsent && r.Login != nil && !*r.Login {
			tiers[r.Name] = true
		}
	}
	if len(tiers) == 0 {
		v.fail("tiers", "none declared", "the spec declares no group roles (login: false): no tiers separate duties")
		return v.done("")
	}
	for _, name := range sortedKeys(tiers) {
		switch lr := roles[name]; {
		case lr == nil:
			v.fail(name, "missing", "tier "+name+" does not exist")
		case lr.Login:
			v.fail(name, "LOGIN", "tier "+name+" can log in")
		default:
			v.fact(name, "NOLOGIN tier, member of %s", listOrNone(lr.MemberOf))
		}
	}
	for _, r := range s.Cluster.Roles {
		lr := roles[r.Name]
		if r.State == model.StateAbsent || lr == nil {
			continue
		}
		for _, m := range r.MemberOf {
			if !m.Revoke && !slices.Contains(lr.MemberOf, m.Role) {
				v.fail(r.Name, "not a member of "+m.Role, r.Name+" is not a member of "+m.Role+" as declared")
			}
		}
	}
	for _, lr := range s.Evidence.Roles {
		sr := s.declared(lr.Name)
		for _, g := range lr.MemberOf {
			if tiers[g] && (sr == nil || !declaresMembership(sr, g)) {
				v.fail(lr.Name, "member of "+g+", not declared", lr.Name+" holds tier "+g+", which the spec does not grant it")
			}
		}
	}
	return v.done(fmt.Sprintf("the %d tiers exist as NOLOGIN roles and every membership is as declared", len(tiers)))
}

func judgeMonitoring(s *Subject) Verdict {
	roles, uv := s.liveRoles()
	if uv != nil {
		return *uv
	}
	_, stmts, lv := s.loaded("pg_stat_statements")
	if lv != nil {
		return *lv
	}
	var v verdict
	name := s.Cluster.Globals.MonitorUser
	switch r := roles[name]; {
	case r == nil:
		v.fail(name, "missing", "the monitor user "+name+" does not exist")
	case !r.Login:
		v.fail(name, "NOLOGIN", "the monitor user "+name+" cannot log in")
	case r.Superuser:
		v.fail(name, "SUPERUSER", "the monitor user "+name+" is a superuser")
	case !memberOf(roles, name, "pg_monitor"):
		v.fail(name, "not a member of pg_monitor", "the monitor user "+name+" cannot read the statistics views")
	default:
		v.fact(name, "LOGIN, member of pg_monitor")
	}
	spl := s.Evidence.Settings["shared_preload_libraries"].Value
	if stmts {
		v.fact("shared_preload_libraries", "%s", spl)
	} else {
		v.fail("shared_preload_libraries", spl, "pg_stat_statements is not loaded: statements are not tracked")
	}
	return v.done("the monitor user reads the statistics views, and pg_stat_statements tracks statements")
}

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
