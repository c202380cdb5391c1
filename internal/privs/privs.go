package privs

import (
	"fmt"
	"regexp"
	"strings"
)

// Clause is one parsed pg_default_privileges entry.
type Clause struct {
	Privileges  []string // upper case; ALL is kept as ALL
	ObjectType  string   // TABLES, SEQUENCES, FUNCTIONS, ROUTINES, TYPES, SCHEMAS
	Grantee     string   // a role name, or PUBLIC
	GrantOption bool
}

var (
	clause = regexp.MustCompile(`(?i)^GRANT\s+(.+?)\s+ON\s+(TABLES|SEQUENCES|FUNCTIONS|ROUTINES|TYPES|SCHEMAS)\s+TO\s+("[^"]+"|[A-Za-z_][A-Za-z0-9_@.$-]*)(\s+WITH\s+GRANT\s+OPTION)?$`)

	// allowed lists the privileges each object type takes.
	allowed = map[string][]string{
		"TABLES":    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "ALL", "ALL PRIVILEGES"},
		"SEQUENCES": {"USAGE", "SELECT", "UPDATE", "ALL", "ALL PRIVILEGES"},
		"FUNCTIONS": {"EXECUTE", "ALL", "ALL PRIVILEGES"},
		"ROUTINES":  {"EXECUTE", "ALL", "ALL PRIVILEGES"},
		"TYPES":     {"USAGE", "ALL", "ALL PRIVILEGES"},
		"SCHEMAS":   {"USAGE", "CREATE", "ALL", "ALL PRIVILEGES"},
	}

	// expand is what ALL means per object type, named as aclexplode names
	// the privileges (and MAINTAIN on tables from PostgreSQL 17, which the
	// diff adds: this package knows no version).
	expand = map[string][]string{
		"TABLES":    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"},
		"SEQUENCES": {"USAGE", "SELECT", "UPDATE"},
		"FUNCTIONS": {"EXECUTE"},
		"ROUTINES":  {"EXECUTE"},
		"TYPES":     {"USAGE"},
		"SCHEMAS":   {"USAGE", "CREATE"},
	}
)

// Parse reads one clause.
func Parse(s string) (Clause, error) {
	m := clause.FindStringSubmatch(strings.Join(strings.Fields(s), " "))
	if m == nil {
		return Clause{}, fmt.Errorf("%q is not of the form GRANT <privileges> ON <TABLES|SEQUENCES|FUNCTIONS|TYPES|SCHEMAS> TO <role>", s)
	}
	c := Clause{ObjectType: strings.ToUpper(m[2]), Grantee: strings.Trim(m[3], `"`), GrantOption: m[4] != ""}
	if strings.EqualFold(c.Grantee, "public") && !strings.HasPrefix(m[3], `"`) {
		c.Grantee = "PUBLIC"
	}
	for _, p := range strings.Split(m[1], ",") {
		p = strings.ToUpper(strings.Join(strings.Fields(p), " "))
		ok := false
		for _, w := range allowed[c.ObjectType] {
			ok = ok || p == w
		}
		if !ok {
			return Clause{}, fmt.Errorf("%q: %s is not a privilege on %s", s, p, c.ObjectType)
		}
		c.Privileges = append(c.Privileges, p)
	}
	return c, nil
}

// Expanded returns the clause's privileges with ALL spelt out, and the
// object type as pg_default_acl stores it (ROUTINES are FUNCTIONS).
func (c Clause) Expanded() (objType string, privileges []string) {
	objType = c.ObjectType
	if objType == "ROUTINES" {
		objType = "FUNCTIONS"
	}
	seen := map[string]bool{}
	for _, p := range c.Privileges {
		names := []string{p}
		if p == "ALL" || p == "ALL PRIVILEGES" {
			names = expand[objType]
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				privileges = append(privileges, n)
			}
		}
	}
	return objType, privileges
}
