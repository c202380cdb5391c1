package apply

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
)

// refusal returns why a guard refuses change c whatever the plan says, or
// "" (promises P7, P12; docs/promises.md). It needs no database: guards that do (the owner of a
// database, the lockout guard, parameter validation) run right before
// their change.
func (e *executor) refusal(c *plan.Change) string {
	if msg := unsendable(c); msg != "" {
		return msg
	}
	switch c.Kind {
	case plan.KindParameter, plan.KindHBA, plan.KindPgBouncer:
		if e.t.Cluster.Instance(c.Instance) == nil {
			return fmt.Sprintf("instance %q is not an instance of cluster %s", c.Instance, e.cluster())
		}
		return ""
	}
	if c.Instance != "" && c.Instance != e.primary.Name() {
		return fmt.Sprintf("cluster-wide change planned for %s, but the primary is %s: the plan is stale",
			c.Instance, e.primary.Name())
	}
	return e.protection(c)
}

// protection returns why the protection policy (package protect, the one
// diff plans with) refuses c, or "". It reads the change's intent, never
// its SQL: a role change or removal and a password change that do not say
// which role they touch are refused, since they cannot be judged.
func (e *executor) protection(c *plan.Change) string {
	switch {
	case c.Kind == plan.KindRole && c.Action != plan.ActionCreate && c.Role == nil:
		return "role change without its role (no intent in the plan): cannot be judged, not executed"
	case c.Kind == plan.KindPassword && c.Password == nil:
		return "password change without its role (no intent in the plan): cannot be judged, not executed"
	}
	if r := c.Role; r != nil {
		if c.Action == plan.ActionRemove {
			if who := e.policy.Removal(r.Name); who != protect.None {
				return fmt.Sprintf("role %s is %s: never removed", r.Name, who)
			}
		}
		for _, rf := range e.policy.Attributes(r.Name, r.Attrs, e.facts.superuser, e.now()) {
			switch rf.Attr {
			case plan.AttrConnLimit:
				return fmt.Sprintf("role %s is %s and not a superuser: an apply never sets CONNECTION LIMIT 0", r.Name, rf.Who)
			case plan.AttrValidUntil:
				return fmt.Sprintf("role %s is %s: an apply never sets VALID UNTIL in the past (%s)", r.Name, rf.Who, r.Attrs.ValidUntil)
			}
			return fmt.Sprintf("role %s is %s: an apply never makes it %s", r.Name, rf.Who, r.Attrs.Keyword(rf.Attr))
		}
	}
	if p := c.Password; p != nil {
		if who := e.policy.Password(p.Role); who != protect.None {
			return fmt.Sprintf("role %s is %s: an apply never changes its password", p.Role, who)
		}
	}
	for _, s := range c.Statements {
		if s.Password.IsZero() || s.PasswordRole == "" {
			continue
		}
		if who := e.policy.Password(s.PasswordRole); who != protect.None {
			return fmt.Sprintf("role %s is %s: an apply never changes its password", s.PasswordRole, who)
		}
	}
	return ""
}

// now is the primary's clock as inspect read it (the clock VALID UNTIL is
// compared with), or this host's when there is none.
func (e *executor) now() time.Time {
	if live := e.t.Live[e.primary.Name()]; live != nil && !live.Now.IsZero() {
		return live.Now
	}
	return time.Now()
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
