package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/privs"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// BuiltinRoles are PostgreSQL's predefined roles (13 to 18). Memberships
// may name them without declaring them; specs may never declare them. The
// inspect tests check the list against every major's pg_roles.
var BuiltinRoles = map[string]bool{
	"pg_database_owner": true, "pg_read_all_data": true, "pg_write_all_data": true, "pg_monitor": true,
	"pg_read_all_settings": true, "pg_read_all_stats": true, "pg_stat_scan_tables": true,
	"pg_read_server_files": true, "pg_write_server_files": true, "pg_execute_server_program": true,
	"pg_signal_backend": true, "pg_checkpoint": true, "pg_use_reserved_connections": true,
	"pg_create_subscription": true, "pg_maintain": true, "pg_signal_autovacuum_worker": true,
}

// maxIdentifier is NAMEDATALEN-1: PostgreSQL truncates longer names, which
// would make the object drift forever.
const maxIdentifier = 63

var (
	gucName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)
)

// check runs the Go checks that need a decoded cluster.
//
// The membership checks run beside the others: they are the biggest part
// of a big inventory's checks (a third, at 10,100 roles and 50,000
// memberships), and they only read the roles, their nodes and what
// checkRoles returned, which nothing after it writes. Their problems take
// the place they would have had in a serial run.
func (cs *clusterSrc) check() {
	cs.checkIdentity()
	declared, first, holds := cs.checkRoles()
	members := &clusterSrc{c: cs.c, roles: cs.roles, namePos: cs.namePos}
	fault := make(chan any, 1)
	go func() {
		defer func() { fault <- recover() }()
		members.checkMemberships(first, holds)
	}()
	at := len(cs.problems)
	cs.checkDatabases(declared)
	cs.checkPrivileges(declared)
	globalsOK := cs.checkAddrGlobals()
	cs.checkHBA(globalsOK, cs.pgHBA())
	cs.checkPooler(globalsOK, declared)
	cs.checkParameters()
	if r := <-fault; r != nil {
		panic(r) // on the caller's goroutine, for its recover
	}
	cs.problems = slices.Insert(cs.problems, at, members.problems...)
}

func (cs *clusterSrc) checkIdentity() {
	c := cs.c
	if len(c.Instances) == 0 {
		cs.fail(cs.namePos, RuleIdentity, "cluster %s has no hosts", c.Name)
		return
	}
	var primaries []*model.Instance
	seqs := map[int]*model.Instance{}
	for _, in := range c.Instances {
		if in.Role == model.RolePrimary {
			primaries = append(primaries, in)
		}
		if prev, dup := seqs[in.Seq]; dup && in.Role != "" {
			cs.fail(cs.hosts[in].pos, RuleIdentity, "pg_seq %d of host %s is already used by host %s", in.Seq, in.IP, prev.IP)
		}
		seqs[in.Seq] = in
	}
	switch {
	case len(primaries) == 0:
		cs.fail(cs.namePos, RuleIdentity, "cluster %s has no primary (exactly one host needs pg_role: primary)", c.Name)
	case len(primaries) > 1:
		for _, in := range primaries[1:] {
			cs.fail(cs.hosts[in].pos, RuleIdentity, "cluster %s has more than one primary: %s and %s", c.Name, primaries[0].IP, in.IP)
		}
	}
}

// checkRoles checks each role on its own and returns the roles that will
// exist (declared with state create), by name.
func (cs *clusterSrc) checkRoles() (declared map[string]*model.Role, first map[string]int, holds []bool) {
	declared = make(map[string]*model.Role, len(cs.c.Roles)) // name → its first declaration, unless absent
	first = make(map[string]int, len(cs.c.Roles))            // name → index of its first declaration
	holds = make([]bool, len(cs.c.Roles))                    // declared[role i's name] is role i
	for i, r := range cs.c.Roles {
		n := cs.roles[i]
		namePos := n.posOf("name")
		cs.checkIdentifier(namePos, "role", r.Name)
		if j, dup := first[r.Name]; dup {
			prev := cs.roles[j].posOf("name")
			also := "at " + prev.String()
			if strings.HasPrefix(prev.File, schemaPrefix) {
				also = "in Pigsty's default pg_default_roles"
			}
			cs.fail(namePos, RuleRole, "role %s is declared twice (also %s)", r.Name, also)
			continue
		}
		first[r.Name] = i
		if r.State == model.StateAbsent {
			if cs.c.Globals.Protected(r.Name) {
				cs.fail(n.posOf("state"), RuleRole, "role %s is protected (dbsu, replicator, admin or monitor) and cannot be removed", r.Name)
			}
		} else {
			declared[r.Name], holds[i] = r, true
		}
		if r.ExpireAt != "" && r.ExpireAt != "infinity" {
			if _, err := time.Parse("2006-01-02", r.ExpireAt); err != nil {
				cs.fail(n.posOf("expire_at"), RuleRole, "expire_at %q is not a date (YYYY-MM-DD) or infinity", r.ExpireAt)
			}
		}
		if r.ExpireIn != nil && r.ExpireAt != "" {
			cs.problems = append(cs.problems, Problem{Pos: n.posOf("expire_at"), Rule: RuleRole, Severity: SeverityWarning,
				Message: fmt.Sprintf("role %s sets both expire_in and expire_at; expire_in wins, as in Pigsty", r.Name)})
		}
		if pw := r.Password.Reveal(); strings.HasPrefix(pw, "SCRAM-SHA-256") {
			if _, err := scram.Parse(pw); err != nil { // err never quotes the value
				cs.fail(n.posOf("password"), RuleRole, "role %s: the password looks like a SCRAM verifier but is malformed (%v); PostgreSQL would store it as a plaintext password", r.Name, err)
			}
		}
		if ps := n.get("parameters"); ps != nil {
			cs.checkSettings(ps, "role "+r.Name)
		}
	}
	return declared, first, holds
}

func (cs *clusterSrc) checkIdentifier(p Pos, what, name string) {
	if len(name) > maxIdentifier {
		cs.fail(p, RuleRole, "%s name %q is %d bytes; PostgreSQL truncates names to %d bytes", what, name, len(name), maxIdentifier)
	}
	if strings.HasPrefix(name, "pg_") {
		cs.fail(p, RuleRole, "%s name %q starts with pg_, which PostgreSQL reserves", what, name)
	}
}

func (cs *clusterSrc) checkSettings(m *node, owner string) {
	if m == nil {
		return
	}
	for _, f := range m.fields() {
		if !gucName.MatchString(f.key) {
			cs.fail(f.keyPos(), RuleParameter, "%s: %q is not a valid parameter name", owner, f.key)
		}
		if at := strings.IndexAny(f.value.scalar(), "\n\r"); at >= 0 {
			cs.fail(f.value.pos(), RuleParameter, "%s: the value of %s holds a line break at byte %d; a setting value is one line",
				owner, f.key, at)
		}
	}
}

// knownRole reports whether name will exist: declared (state create) or
// built into PostgreSQL.
func knownRole(name string, declared map[string]*model.Role) bool {
	return declared[name] != nil || BuiltinRoles[name]
}

// checkMemberships checks every role's roles list: no duplicates, no
// membership in itself, only declared or built-in roles, and no cycle.
// first and holds are checkRoles': the index of each name's first
// declaration, and whether role i is the one that will exist.
func (cs *clusterSrc) checkMemberships(first map[string]int, holds []bool) {
	roles := cs.c.Roles
	// The graph of memberships between declared roles, by index, for the
	// cycle check: the edges of role i are edges[start[i]:start[i+1]].
	edges := make([]int32, 0, len(roles))
	start := make([]int32, len(roles)+1)
	for i, r := range roles {
		start[i] = int32(len(edges))
		if r.State == model.StateAbsent {
			continue
		}
		isDeclared := holds[i]
		entries := cs.roles[i].get("roles")
		var listed map[string]Pos // for long lists; short ones are scanned
		if len(r.MemberOf) > 16 {
			listed = make(map[string]Pos, len(r.MemberOf))
		}
		for j, m := range r.MemberOf {
			item := entries.items()[j] // its position is built to report only
			var prev Pos
			dup := false
			if listed != nil {
				prev, dup = listed[m.Role]
			} else {
				for k := range r.MemberOf[:j] {
					if r.MemberOf[k].Role == m.Role {
						prev, dup = entries.items()[k].pos(), true
						break
					}
				}
			}
			if dup {
				// Two entries for one role (a grant and a revoke, or two
				// sets of options) never converge: each run undoes the other.
				cs.fail(item.pos(), RuleRole, "role %s lists %s twice in roles (also at %s)", r.Name, m.Role, cs.at(prev))
				continue
			}
			if listed != nil {
				listed[m.Role] = item.pos()
			}
			t, isRole := first[m.Role]
			isRole = isRole && roles[t].State != model.StateAbsent // declared[m.Role] != nil, and t is it
			switch {
			case m.Role == r.Name:
				cs.fail(item.pos(), RuleRole, "role %s cannot be a member of itself", r.Name)
			case m.Revoke:
				// Revoking a membership in a role that does not exist is a no-op.
			case strings.HasPrefix(m.Role, "pg_") && !BuiltinRoles[m.Role]:
				cs.fail(item.pos(), RuleRole, "role %s: %s is not a built-in PostgreSQL role", r.Name, m.Role)
			case !isRole && !BuiltinRoles[m.Role]:
				cs.fail(item.pos(), RuleRole, "role %s is a member of %s, which is neither declared nor built in", r.Name, m.Role)
			case isRole && isDeclared:
				edges = append(edges, int32(t))
			}
		}
	}
	start[len(roles)] = int32(len(edges))

	// Cycles: PostgreSQL refuses circular memberships.
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(roles))
	var visit func(i int32, path []int32) []int32
	visit = func(i int32, path []int32) []int32 {
		switch state[i] {
		case onPath:
			return append(path, i)
		case done:
			return nil
		}
		state[i] = onPath
		for _, t := range edges[start[i]:start[i+1]] {
			if cyc := visit(t, append(path, i)); cyc != nil {
				return cyc
			}
		}
		state[i] = done
		return nil
	}
	for i := range roles {
		if state[i] != unseen || !holds[i] {
			continue
		}
		if cyc := visit(int32(i), nil); cyc != nil {
			names := make([]string, len(cyc))
			for k, c := range cyc {
				names[k] = roles[c].Name
			}
			cs.fail(cs.roles[i].posOf("roles"), RuleRole, "circular role membership: %s", strings.Join(names, " -> "))
		}
	}
}

func (cs *clusterSrc) checkDatabases(declared map[string]*model.Role) {
	where := map[string]Pos{}
	for i, d := range cs.c.Databases {
		n := cs.dbs[i]
		namePos := n.posOf("name")
		if len(d.Name) > maxIdentifier {
			cs.fail(namePos, RuleDatabase, "database name %q is %d bytes; PostgreSQL truncates names to %d bytes", d.Name, len(d.Name), maxIdentifier)
		}
		if prev, dup := where[d.Name]; dup {
			cs.fail(namePos, RuleDatabase, "database %s is declared twice (also at %s)", d.Name, prev)
			continue
		}
		where[d.Name] = namePos
		switch {
		case d.State == "recreate":
			cs.fail(n.posOf("state"), RuleDatabase, "database %s: state recreate would drop the database on every reconcile; use absent, then create in a later commit", d.Name)
		case d.State == model.DatabaseAbsent && (d.Name == "postgres" || d.Name == "template0" || d.Name == "template1"):
			cs.fail(n.posOf("state"), RuleDatabase, "database %s is a system database and cannot be removed", d.Name)
		}
		if d.State == model.DatabaseAbsent {
			continue
		}
		if d.Baseline != "" {
			cs.problems = append(cs.problems, Problem{Pos: cs.at(n.posOf("baseline")), Rule: RuleDatabase, Severity: SeverityWarning,
				Message: fmt.Sprintf("database %s: baseline %s is not run by pgreconciler (Pigsty's pgsql-db.yml runs it); create those objects with your migrations", d.Name, d.Baseline)})
		}
		if d.Owner != "" && !knownRole(d.Owner, declared) && d.Owner != cs.c.Globals.DBSU {
			cs.fail(n.posOf("owner"), RuleDatabase, "database %s: owner %s is not a declared role", d.Name, d.Owner)
		}
		for _, f := range []string{"template", "encoding", "locale", "lc_collate", "lc_ctype", "icu_locale", "builtin_locale", "tablespace"} {
			cs.checkName(n.get(f), RuleDatabase, "database "+d.Name+": "+f)
		}
		seen := map[string]bool{}
		for j, s := range d.Schemas {
			p := n.itemPos("schemas", j)
			cs.checkObjectName(n.get("schemas").items()[j], "schema", d.Name)
			if seen[s.Name] {
				cs.fail(p, RuleDatabase, "database %s: schema %s is listed twice", d.Name, s.Name)
			}
			seen[s.Name] = true
			if s.Owner != "" && !knownRole(s.Owner, declared) && s.Owner != cs.c.Globals.DBSU {
				cs.fail(p, RuleDatabase, "database %s: schema %s owner %s is not a declared role", d.Name, s.Name, s.Owner)
			}
		}
		seen = map[string]bool{}
		for j, e := range d.Extensions {
			it := n.get("extensions").items()[j]
			cs.checkObjectName(it, "extension", d.Name)
			if it.kind == kindMap {
				cs.checkName(it.get("schema"), RuleDatabase, "database "+d.Name+": extension "+e.Name+": schema")
				cs.checkName(it.get("version"), RuleDatabase, "database "+d.Name+": extension "+e.Name+": version")
			}
			if seen[e.Name] {
				cs.fail(n.itemPos("extensions", j), RuleDatabase, "database %s: extension %s is listed twice", d.Name, e.Name)
			}
			seen[e.Name] = true
		}
		if ps := n.get("parameters"); ps != nil {
			cs.checkSettings(ps, "database "+d.Name)
		}
	}
}

// checkObjectName checks the name of a schema or extension item (a string
// or an object with a name) of database db: one line, and no longer than
// PostgreSQL keeps.
func (cs *clusterSrc) checkObjectName(it *node, what, db string) {
	if it.kind == kindMap {
		it = it.get("name")
	}
	if it == nil || it.kind != kindString {
		return
	}
	cs.checkName(it, RuleDatabase, "database "+db+": "+what+" name")
	if len(it.scalar()) > maxIdentifier {
		cs.fail(it.pos(), RuleDatabase, "database %s: %s name %s is %d bytes; PostgreSQL truncates names to %d bytes",
			db, what, quoteValue(it.scalar()), len(it.scalar()), maxIdentifier)
	}
}

func (cs *clusterSrc) checkPrivileges(declared map[string]*model.Role) {
	for i, clause := range cs.c.DefaultPrivileges {
		p := cs.privs[i].pos()
		cl, err := privs.Parse(clause)
		if err != nil {
			cs.fail(p, RuleRole, "pg_default_privileges: %v", err)
			continue
		}
		if cl.Grantee != "PUBLIC" && !knownRole(cl.Grantee, declared) {
			cs.fail(p, RuleRole, "pg_default_privileges: grantee %s is neither declared nor built in", cl.Grantee)
		}
	}
}

func (cs *clusterSrc) checkParameters() {
	for _, in := range cs.c.Instances {
		m := cs.params[in]
		cs.checkSettings(m, "pg_parameters")
		libs := (scope{inv: cs.primary.inv, group: cs.group, host: cs.hosts[in]}).get("pg_libs")
		if libs != nil && libs.kind == kindString && m.get("shared_preload_libraries") == nil {
			if at := strings.IndexAny(libs.scalar(), "\n\r"); at >= 0 {
				cs.fail(libs.pos(), RuleParameter, "pg_libs holds a line break at byte %d; a setting value is one line", at)
			}
		}
		for _, p := range in.Parameters {
			if p.Name == "shared_preload_libraries" && strings.Trim(p.Value, `", `) == "" {
				pos := cs.hosts[in].pos
				if v := m.get(p.Name); v != nil {
					pos = v.pos()
				} else if libs != nil {
					pos = libs.pos()
				}
				cs.fail(pos, RuleParameter, "shared_preload_libraries must not be empty or quoted-empty: an empty library name keeps the server from starting")
			}
		}
	}
}
