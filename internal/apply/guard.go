package apply

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// refusal returns why a guard refuses change c whatever the plan says, or
// "" (P7, P12). It needs no database: guards that do (the owner of a
// database, the lockout guard, parameter validation) run right before
// their change.
func (e *executor) refusal(c *plan.Change) string {
	if msg := unsendable(c); msg != "" {
		return msg
	}
	switch c.Kind {
	case plan.KindParameter, plan.KindHBA:
		if e.t.Cluster.Instance(c.Instance) == nil {
			return fmt.Sprintf("instance %q is not an instance of cluster %s", c.Instance, e.cluster())
		}
		return ""
	}
	if c.Instance != "" && c.Instance != e.primary.Name() {
		return fmt.Sprintf("cluster-wide change planned for %s, but the primary is %s: the plan is stale",
			c.Instance, e.primary.Name())
	}
	if c.Kind == plan.KindRole && c.Action == plan.ActionRemove {
		if why := e.protected(c.Object); why != "" {
			return fmt.Sprintf("role %s is %s: never removed", c.Object, why)
		}
	}
	if c.Kind == plan.KindPassword {
		if why := e.passwordProtected(c.Object); why != "" {
			return fmt.Sprintf("role %s is %s: an apply never changes its password", c.Object, why)
		}
	}
	for _, s := range c.Statements {
		if !s.Password.IsZero() {
			if why := e.passwordProtected(s.PasswordRole); why != "" {
				return fmt.Sprintf("role %s is %s: an apply never changes its password", s.PasswordRole, why)
			}
		}
		if c.Kind == plan.KindRole && e.own[c.Object] {
			for _, kw := range []string{"NOLOGIN", "NOSUPERUSER"} {
				if hasKeyword(s.SQL, kw) {
					return fmt.Sprintf("role %s is the reconciler's own login role: an apply never makes it %s", c.Object, kw)
				}
			}
			if !e.facts.superuser && connLimitZero.MatchString(s.SQL) {
				return fmt.Sprintf("role %s is the reconciler's own login role and not a superuser: an apply never sets CONNECTION LIMIT 0", c.Object)
			}
		}
	}
	return ""
}

// unsendable says why change c holds text that must not be sent, or "": a
// NUL byte, which no PostgreSQL text can hold. Sent, it would end the
// simple-query message early; the server rejects the whole message as a
// protocol violation, which aborts the transaction around it. Validation
// refuses NUL in every spec field; this is the executor's own check.
// Values that may be secrets are checked without being shown.
func unsendable(c *plan.Change) string {
	for k, s := range c.Statements {
		if at := strings.IndexByte(s.SQL, 0); at >= 0 {
			return fmt.Sprintf("statement %d of %d holds a NUL byte at byte %d (%s), which PostgreSQL cannot hold: not sent",
				k+1, len(c.Statements), at, brief(s.SQL))
		}
		if strings.IndexByte(s.Password.Reveal(), 0) >= 0 {
			return fmt.Sprintf("the password of statement %d of %d holds a NUL byte, which PostgreSQL cannot hold: not sent", k+1, len(c.Statements))
		}
	}
	if c.Parameter != nil && strings.IndexByte(c.Parameter.Value.Reveal(), 0) >= 0 {
		return fmt.Sprintf("the value of parameter %s holds a NUL byte, which PostgreSQL cannot hold: not written", c.Parameter.Name)
	}
	if c.HBA != nil {
		if at := strings.IndexByte(c.HBA.Content, 0); at >= 0 {
			return fmt.Sprintf("line %d of the pg_hba.conf candidate holds a NUL byte: not written", strings.Count(c.HBA.Content[:at], "\n")+1)
		}
	}
	return ""
}

// connLimitZero finds CONNECTION LIMIT 0 in a role statement.
var connLimitZero = regexp.MustCompile(`(?i)\bCONNECTION\s+LIMIT\s+0\b`)

// passwordProtected says why a role's password is never changed by an
// apply, or "": the reconciler's own login (it would lock itself out), the
// dbsu (Patroni and local tools hold it) and the replication user (the
// replicas' Patroni holds the old one and could not reconnect).
func (e *executor) passwordProtected(role string) string {
	switch {
	case role == "":
		return ""
	case e.own[role]:
		return "the reconciler's own login role"
	case role == e.dbsu():
		return "the dbsu"
	case role == e.t.Cluster.Globals.ReplicationUser:
		return "the replication user"
	}
	return ""
}

// protected says why a role may never be removed, or "".
func (e *executor) protected(name string) string {
	switch {
	case e.own[name]:
		return "the reconciler's own login role"
	case e.t.Cluster.Globals.Protected(name) || name == e.dbsu():
		return "a system role (dbsu, replicator, admin or monitor)"
	case strings.HasPrefix(name, "pg_"):
		return "reserved (pg_ prefix)"
	}
	return ""
}

// dbsu is the database superuser's name.
func (e *executor) dbsu() string {
	switch {
	case e.opts.DBSU != "":
		return e.opts.DBSU
	case e.t.Cluster.Globals.DBSU != "":
		return e.t.Cluster.Globals.DBSU
	}
	return "postgres"
}

// hasKeyword reports whether the SQL text holds kw (upper case) as a bare
// keyword, outside string literals, quoted identifiers and comments.
func hasKeyword(sql, kw string) bool {
	for i := 0; i < len(sql); {
		ch := sql[i]
		switch {
		case ch == '\'' || ch == '"':
			i = skipQuoted(sql, i+1, ch)
		case ch == '-' && strings.HasPrefix(sql[i:], "--"):
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case ch == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += end + 4
		case isWordByte(ch):
			j := i
			for j < len(sql) && isWordByte(sql[j]) {
				j++
			}
			if strings.EqualFold(sql[i:j], kw) {
				return true
			}
			i = j
		default:
			i++
		}
	}
	return false
}

// skipQuoted returns the index after the quote closing a literal or
// identifier opened before i (a doubled quote is part of it).
func skipQuoted(s string, i int, q byte) int {
	for i < len(s) {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
