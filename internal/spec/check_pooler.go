package spec

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
	"unicode"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
)

// checkPooler checks what Pigsty renders for the PgBouncer beside each
// instance that has one (pgbouncer_enabled): pgb_hba.conf's rules as
// hba.CheckPgBouncerRule takes them and the rendered file against the
// pooler's lockout guard (pgbouncer.Lockout, for the connections known
// from the spec), the pgbouncer_* variables, and the users' and
// databases' pool_* fields.
func (cs *clusterSrc) checkPooler(globalsOK bool, declared map[string]*model.Role) {
	var pooled []*model.Instance
	for _, in := range cs.c.Instances {
		if in.Pooler.Enabled {
			pooled = append(pooled, in)
		}
	}
	if len(pooled) == 0 {
		return
	}
	cs.checkHBA(globalsOK, hbaFile{name: "pgb_hba.conf", nodes: cs.pgbHBA,
		rules:     func(in *model.Instance) []model.HBARule { return in.Pooler.HBA },
		checkRule: hba.CheckPgBouncerRule, parseLine: hba.ParsePgBouncerLine, render: hba.RenderPgBouncer,
		skip:     func(in *model.Instance) bool { return !in.Pooler.Enabled },
		rendered: cs.checkPoolerLockout})
	for _, in := range pooled {
		cs.checkPoolerVars(in)
	}
	cs.checkPoolFields(declared, pooled)
}

// checkPoolerLockout refuses a pgb_hba.conf that would lock out the dbsu,
// the monitor or the admin (see pgbouncer.Victims), at the pgb_hba_rules
// (or pgb_default_hba_rules) in effect for the host.
func (cs *clusterSrc) checkPoolerLockout(in *model.Instance, f *hba.File) {
	problems := pgbouncer.Lockout(f.Lines, nil, pgbouncer.Victims(cs.c, in))
	if len(problems) == 0 {
		return
	}
	p := cs.hosts[in].pos
	hs := scope{inv: cs.primary.inv, host: cs.hosts[in]}
	for _, list := range []string{"pgb_hba_rules", "pgb_default_hba_rules"} {
		if v := hs.get(list); v != nil && !strings.HasPrefix(v.pos().File, schemaPrefix) {
			p = v.pos()
			break
		}
	}
	cs.fail(p, RulePooler, "instance %s: the pooler's lockout guard refuses this pgb_hba.conf: %s", in.Name(), strings.Join(problems, "; "))
}

// checkPoolerVars checks the pgbouncer_* variables and pg_localhost of one
// host.
func (cs *clusterSrc) checkPoolerVars(in *model.Instance) {
	hs := scope{inv: cs.primary.inv, host: cs.hosts[in]}
	p := in.Pooler
	if p.Port == in.Port {
		cs.fail(hs.get("pgbouncer_port").pos(), RulePooler, "instance %s: pgbouncer_port %d is pg_port too: PgBouncer and PostgreSQL cannot both listen on it", in.Name(), p.Port)
	}
	if v := hs.get("pg_localhost"); v != nil && v.kind == kindString {
		if err := checkLocalhost(v.scalar()); err != nil {
			cs.fail(v.pos(), RulePooler, "pg_localhost: %v", err)
		}
	}
	if v := hs.get("pgbouncer_redirect_to"); v != nil && v.kind == kindString && v.scalar() != "" {
		cs.warn(v.pos(), RulePooler, "pgbouncer_redirect_to has no effect: Pigsty's pgbouncer.database template reads it but never uses it, so database.txt keeps host=%s", p.Localhost)
	}
}

// checkLocalhost accepts what pg_localhost can be in database.txt's
// host=: a Unix socket directory (an absolute path) or an IP address,
// written bare, as Pigsty's template writes it.
func checkLocalhost(s string) error {
	if strings.ContainsAny(s, " \t'\"\\=") || strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%q holds a blank, quote, backslash or '=': Pigsty writes it unquoted into every database.txt entry", s)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if !path.IsAbs(s) {
		return fmt.Errorf("%q is neither a Unix socket directory (an absolute path) nor an IP address", s)
	}
	return nil
}

// checkPoolFields checks the users' and databases' PgBouncer fields, once
// for the cluster (they are cluster-wide, resolved with the primary's
// variables).
func (cs *clusterSrc) checkPoolFields(declared map[string]*model.Role, pooled []*model.Instance) {
	g := cs.c.Globals
	inUserlist := map[string]bool{g.DBSU: true, g.AdminUser: true, g.MonitorUser: true}
	authQuery := false
	for _, in := range pooled {
		authQuery = authQuery || in.Pooler.AuthQuery
	}
	for i, r := range cs.c.Roles {
		n := cs.roles[i]
		if cs.schemaRefused(n) {
			continue
		}
		cs.nullPoolFields(n, "user", r.Name, "useropts.txt", "pool_mode", "pool_connlimit")
		if n.get("pgbouncer") != nil && n.get("pgbouncer").isNull() {
			cs.warn(n.posOf("pgbouncer"), RulePooler, "user %s: pgbouncer: null leaves it out of userlist.txt, as Pigsty reads it; write true or false", r.Name)
		}
		if r.PoolMode != "" || r.PoolConnLimit != nil {
			if err := pgbouncer.CheckUserKey(r.Name); err != nil {
				cs.fail(n.posOf("name"), RulePooler, "%v", err)
			}
		}
		if r.System && r.Pgbouncer && !inUserlist[r.Name] {
			cs.warn(n.posOf("pgbouncer"), RulePooler, "user %s: pgbouncer: true in pg_default_roles does not add it to userlist.txt (Pigsty adds only the dbsu, the monitor, the admin and pg_users entries)", r.Name)
		}
		if !r.System && r.Pgbouncer && r.State != model.StateAbsent && !authQuery {
			inUserlist[r.Name] = true
		}
	}
	for i, d := range cs.c.Databases {
		n := cs.dbs[i]
		if cs.schemaRefused(n) || d.State == model.DatabaseAbsent {
			continue
		}
		cs.nullPoolFields(n, "database", d.Name, "database.txt", "pool_auth_user", "pool_mode", "pool_size", "pool_size_min", "pool_reserve", "pool_connlimit")
		if v := n.get("pgbouncer"); v != nil && v.isNull() {
			cs.warn(v.pos(), RulePooler, "database %s: pgbouncer: null leaves it out of database.txt, as Pigsty reads it; write true or false", d.Name)
		}
		if !d.Pgbouncer || d.PoolAuthUser == "" || inUserlist[d.PoolAuthUser] {
			continue
		}
		why := "is not in userlist.txt (not a pg_users entry with pgbouncer: true)"
		if knownRole(d.PoolAuthUser, declared) && authQuery {
			why = "is not in userlist.txt (pgbouncer_auth_query leaves business users out)"
		}
		cs.warn(n.posOf("pool_auth_user"), RulePooler, "database %s: pool_auth_user %s %s: PgBouncer cannot log in as it to run auth_query", d.Name, d.PoolAuthUser, why)
	}
}

// nullPoolFields warns about PgBouncer fields set to null: pgreconciler
// leaves them out, where Pigsty's template would write the key with the
// value None, which PgBouncer refuses.
func (cs *clusterSrc) nullPoolFields(n *node, what, name, file string, fields ...string) {
	for _, f := range fields {
		if v := n.get(f); v != nil && v.isNull() {
			cs.warn(v.pos(), RulePooler, "%s %s: %s: null is left out of %s; Pigsty's template would write the option with the value None, which PgBouncer refuses", what, name, f, file)
		}
	}
}

func (cs *clusterSrc) warn(p Pos, rule, format string, args ...any) {
	cs.problems = append(cs.problems, Problem{Pos: cs.at(p), Rule: rule, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)})
}
