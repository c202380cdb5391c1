package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// PolicyRule is one rule of a policy profile.
type PolicyRule struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Severity    string   `json:"severity"`
	Controls    []string `json:"controls"`
}

type profile struct {
	Description string       `json:"description"`
	Extends     string       `json:"extends"`
	Rules       []PolicyRule `json:"rules"`
}

// Profiles lists the names of the policy profiles in the schema.
func (s *Schema) Profiles() []string {
	var ps map[string]profile
	_ = s.policies.LookupPath(cue.ParsePath("profiles")).Decode(&ps)
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ProfileNone is the profile that checks no policy.
const ProfileNone = "none"

// Profiles lists every profile a load accepts: the schema's, and none.
func (l *Loader) Profiles() []string { return append(l.schema.Profiles(), ProfileNone) }

// PolicyRules returns the rules of a profile, its parents' first.
func (s *Schema) PolicyRules(name string) ([]PolicyRule, error) {
	var ps map[string]profile
	if err := s.policies.LookupPath(cue.ParsePath("profiles")).Decode(&ps); err != nil {
		return nil, fmt.Errorf("decode policy profiles: %w", err)
	}
	var rules []PolicyRule
	seen := map[string]bool{}
	for n := name; n != ""; {
		p, ok := ps[n]
		if !ok {
			return nil, fmt.Errorf("unknown policy profile %q (have %s)", n, strings.Join(s.Profiles(), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("policy profile %q extends itself", n)
		}
		seen[n] = true
		rules = append(slices.Clone(p.Rules), rules...)
		n = p.Extends
	}
	return rules, nil
}

// policyCheck finds violations of one rule in a decoded fleet; each
// violation is a position and a message.
type policyCheck func(b *built, report func(Pos, string))

func policyChecks() map[string]policyCheck {
	return map[string]policyCheck{
		"hba-no-trust-tcp":               checkNoTrustTCP,
		"hba-admin-ssl-outside-intranet": checkAdminSSL,
		"hba-no-md5":                     checkNoMD5Auth,
		"hba-ssl-required":               checkSSLRequired,
		"password-encryption-scram":      checkPasswordEncryption,
		"password-no-md5-hash":           checkNoMD5Hash,
		"password-no-plaintext":          checkNoPlaintext,
		"login-expiry":                   checkLoginExpiry,
		"password-complexity":            checkPasswordComplexity,
		"log-connections":                checkLogConnections,
		"log-statement-ddl":              checkLogStatement,
	}
}

// applyPolicy runs a profile's rules.
func (s *Schema) applyPolicy(name string, b *built) (Problems, error) {
	rules, err := s.PolicyRules(name)
	if err != nil {
		return nil, err
	}
	checks := policyChecks()
	var out Problems
	for _, r := range rules {
		check, ok := checks[r.ID]
		if !ok {
			return nil, fmt.Errorf("policy profile %s: rule %s is not implemented", name, r.ID)
		}
		sev := SeverityError
		if r.Severity == "warning" {
			sev = SeverityWarning
		}
		check(b, func(p Pos, msg string) {
			out = append(out, Problem{Pos: p, Message: msg, Rule: r.ID, Controls: r.Controls, Severity: sev})
		})
	}
	return out, nil
}

// rolePositions yields every declared, present role with its node.
func (b *built) eachRole(fn func(cs *clusterSrc, r *model.Role, n *node)) {
	for _, cs := range b.clusters {
		for i, r := range cs.c.Roles {
			if r.State != model.StateAbsent {
				fn(cs, r, cs.roles[i])
			}
		}
	}
}

// varPos is where a variable is set for a cluster's primary, or the
// cluster's name when it is not set (or only defaulted).
func (cs *clusterSrc) varPos(name string) (Pos, *node) {
	if v := cs.primary.get(name); v != nil && v.pos.File != "" && !strings.HasPrefix(v.pos.File, schemaPrefix) {
		return v.pos, v
	}
	return cs.namePos, nil
}

func checkPasswordEncryption(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		if cs.c.Globals.PasswordEncryption != "scram-sha-256" {
			p, _ := cs.varPos("pg_pwd_enc")
			report(p, fmt.Sprintf("cluster %s: pg_pwd_enc is %s; use scram-sha-256", cs.c.Name, cs.c.Globals.PasswordEncryption))
		}
		for _, in := range cs.c.Instances {
			for _, p := range in.Parameters {
				if p.Name == "password_encryption" && p.Value != "scram-sha-256" {
					report(cs.at(cs.paramPos(in, p.Name)), fmt.Sprintf("instance %s: password_encryption is %s; use scram-sha-256", in.Name(), p.Value))
				}
			}
		}
	}
}

func checkNoMD5Hash(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		if n.get("password") != nil && r.Password.Kind() == model.SecretMD5 {
			report(cs.at(n.posOf("password")), fmt.Sprintf("role %s: the password is an md5 hash; store a SCRAM-SHA-256 verifier (reconciler passwd)", r.Name))
		}
	})
	eachGlobalPassword(b, model.SecretMD5, func(p Pos, v string) {
		report(p, fmt.Sprintf("%s is an md5 hash; store a SCRAM-SHA-256 verifier (reconciler passwd)", v))
	})
}

func checkNoPlaintext(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		if n.get("password") != nil && r.Password.Kind() == model.SecretPlaintext {
			report(cs.at(n.posOf("password")), fmt.Sprintf("role %s: the password is plaintext in Git; commit a SCRAM-SHA-256 verifier instead (reconciler passwd %s)", r.Name, r.Name))
		}
	})
	eachGlobalPassword(b, model.SecretPlaintext, func(p Pos, v string) {
		report(p, fmt.Sprintf("%s is plaintext in Git; commit a SCRAM-SHA-256 verifier instead", v))
	})
}

// eachGlobalPassword calls f for each pg_*_password variable of a cluster
// whose value is of kind k, at the variable. (A role that takes its
// password from one is judged here, once, not again at the role.)
func eachGlobalPassword(b *built, k model.SecretKind, f func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, v := range []string{"pg_dbsu_password", "pg_replication_password", "pg_admin_password", "pg_monitor_password"} {
			if p, n := cs.varPos(v); n != nil && model.KindOfPassword(n.scalar) == k {
				f(p, v)
			}
		}
	}
}

func checkLoginExpiry(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		// Pigsty's CREATE USER makes a role LOGIN unless login: false.
		if (r.Login == nil || *r.Login) && r.ExpireIn == nil && r.ExpireAt == "" && !cs.c.Globals.Protected(r.Name) {
			report(cs.at(n.posOf("name")), fmt.Sprintf("login user %s has neither expire_in nor expire_at", r.Name))
		}
	})
}

// checkPasswordComplexity judges the shared_preload_libraries each
// instance will run with: pg_libs, unless pg_parameters sets it, which wins.
func checkPasswordComplexity(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			libs, _ := paramValue(in, "shared_preload_libraries")
			ok := false
			for _, l := range strings.Split(libs, ",") {
				l = strings.Trim(strings.TrimSpace(l), `"`)
				l = strings.TrimPrefix(l, "$libdir/")
				ok = ok || l == "passwordcheck" || l == "credcheck"
			}
			if ok {
				continue
			}
			p, _ := cs.varPos("pg_libs")
			if v := cs.params[in].get("shared_preload_libraries"); v != nil {
				p = cs.at(v.pos)
			}
			report(p, fmt.Sprintf("cluster %s: shared_preload_libraries (pg_libs) loads neither passwordcheck nor credcheck", cs.c.Name))
			break
		}
	}
}

func (cs *clusterSrc) paramPos(in *model.Instance, name string) Pos {
	if v := cs.params[in].get(name); v != nil {
		return v.pos
	}
	if m := cs.params[in]; m != nil {
		return m.pos
	}
	return cs.hosts[in].pos
}

func paramValue(in *model.Instance, name string) (string, bool) {
	for _, p := range in.Parameters {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func checkLogConnections(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			v, ok := paramValue(in, "log_connections")
			if !ok || !(truthy(v) || connectionAspects(v)) {
				report(cs.at(cs.paramPos(in, "log_connections")), fmt.Sprintf("instance %s: log_connections is not on", in.Name()))
			}
		}
	}
}

func checkLogStatement(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			v, _ := paramValue(in, "log_statement")
			switch strings.ToLower(v) {
			case "ddl", "mod", "all":
			default:
				report(cs.at(cs.paramPos(in, "log_statement")), fmt.Sprintf("instance %s: log_statement is %q; use at least ddl", in.Name(), v))
			}
		}
	}
}

// connectionAspects reports whether v is PostgreSQL 18's list form of
// log_connections ("receipt,authentication,authorization", "all") naming
// at least one aspect of a connection.
func connectionAspects(v string) bool {
	for _, a := range strings.Split(strings.ToLower(v), ",") {
		switch strings.TrimSpace(a) {
		case "all", "receipt", "authentication", "authorization":
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}
