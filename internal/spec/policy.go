package spec

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/pgreconciler/pgreconciler/schema"
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
// It needs no Loader, and does not wait for the schema's compilation: a
// command checks its --profile first, and the names are read from the
// policy files' syntax (TestProfileNamesFromSyntax holds them equal to
// the compiled schema's).
func Profiles() []string { return append(profileNames(), ProfileNone) }

// profileNames lists the labels of the top-level profiles struct in the
// embedded policy files (profiles: NAME: {...} or profiles: {NAME: ...}),
// sorted, without compiling them.
var profileNames = sync.OnceValue(func() []string {
	set := map[string]bool{}
	entries, _ := fs.ReadDir(schema.FS, "policy")
	for _, e := range entries {
		if path.Ext(e.Name()) != ".cue" {
			continue
		}
		src, err := fs.ReadFile(schema.FS, path.Join("policy", e.Name()))
		if err != nil {
			continue
		}
		f, err := parser.ParseFile(e.Name(), src)
		if err != nil {
			continue // LoadSchema reports it
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.Field); ok && labelName(fd.Label) == "profiles" {
				if st, ok := fd.Value.(*ast.StructLit); ok {
					for _, el := range st.Elts {
						if inner, ok := el.(*ast.Field); ok {
							if n := labelName(inner.Label); n != "" {
								set[n] = true
							}
						}
					}
				}
			}
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
})

// labelName is a regular label's name; "" for a pattern ([Name=string]).
func labelName(l ast.Label) string {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name
	case *ast.BasicLit:
		if s, err := strconv.Unquote(l.Value); err == nil {
			return s
		}
	}
	return ""
}

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

// varPos is where a variable is set for a cluster's primary, or the
// cluster's name when it is not set (or only defaulted).
func (cs *clusterSrc) varPos(name string) (Pos, *node) {
	if v := cs.primary.get(name); v != nil && v.pos().File != "" && !strings.HasPrefix(v.pos().File, schemaPrefix) {
		return v.pos(), v
	}
	return cs.namePos, nil
}
