package spec

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// The decoders below read data trees that the schema walk has accepted, so
// they trust kinds and enumerations; Go checks run afterwards.

// optBool decodes an optional boolean. The pointer is one of two shared
// values, not an allocation per boolean (seven per role): the model's
// booleans are never written through.
func optBool(n *node) *bool {
	if n.isNull() || n.kind != kindBool {
		return nil
	}
	if n.boolean() {
		return &sharedTrue
	}
	return &sharedFalse
}

var sharedTrue, sharedFalse = true, false

func (cs *clusterSrc) optInt(n *node) *int {
	if n.isNull() || n.kind != kindInt {
		return nil
	}
	i, ok := cs.integer(n)
	if !ok {
		return nil
	}
	return &i
}

// integer decodes an int scalar. The schema bounds every integer field
// (#Int4), so one that does not fit an int has been refused already; it is
// reported all the same, never clamped.
func (cs *clusterSrc) integer(n *node) (int, bool) {
	i, err := strconv.Atoi(n.scalar())
	if err != nil {
		cs.fail(n.pos(), RuleSchema, "integer out of range")
		return 0, false
	}
	return i, true
}

func optStr(n *node) string {
	if n.isNull() || n.kind != kindString {
		return ""
	}
	return n.scalar()
}

func boolOr(n *node, def bool) bool {
	if b := optBool(n); b != nil {
		return *b
	}
	return def
}

// decodeRoles reads pg_default_roles then pg_users, and applies the system
// users' passwords from the pg_*_password globals.
func (cs *clusterSrc) decodeRoles() {
	c := cs.c
	for _, list := range []struct {
		name   string
		system bool
	}{{"pg_default_roles", true}, {"pg_users", false}} {
		v := cs.primary.get(list.name)
		if v == nil || v.kind != kindList {
			continue
		}
		for _, it := range v.items() {
			if it.kind != kindMap {
				continue
			}
			c.Roles = append(c.Roles, cs.decodeRole(it, list.system))
			cs.roles = append(cs.roles, it)
		}
	}
	for _, p := range []struct{ user, password string }{
		{c.Globals.DBSU, "pg_dbsu_password"},
		{c.Globals.ReplicationUser, "pg_replication_password"},
		{c.Globals.AdminUser, "pg_admin_password"},
		{c.Globals.MonitorUser, "pg_monitor_password"},
	} {
		pw := cs.primary.str(p.password)
		if pw == "" {
			continue
		}
		if r := c.Role(p.user); r != nil && r.Password.IsZero() {
			r.Password = model.NewSecret(pw)
		}
	}
}

func (cs *clusterSrc) decodeRole(n *node, system bool) *model.Role {
	r := &model.Role{
		Name:          optStr(n.get("name")),
		State:         model.StateCreate,
		Password:      model.NewSecret(optStr(n.get("password"))),
		Login:         optBool(n.get("login")),
		Superuser:     optBool(n.get("superuser")),
		CreateDB:      optBool(n.get("createdb")),
		CreateRole:    optBool(n.get("createrole")),
		Inherit:       optBool(n.get("inherit")),
		Replication:   optBool(n.get("replication")),
		BypassRLS:     optBool(n.get("bypassrls")),
		ConnLimit:     cs.optInt(n.get("connlimit")),
		ExpireIn:      cs.optInt(n.get("expire_in")),
		ExpireAt:      optStr(n.get("expire_at")),
		Pgbouncer:     boolOr(n.get("pgbouncer"), false),
		PoolMode:      optStr(n.get("pool_mode")),
		PoolConnLimit: cs.optInt(n.get("pool_connlimit")),
		System:        system,
	}
	if optStr(n.get("state")) == "absent" {
		r.State = model.StateAbsent
	}
	if c := n.get("comment"); !c.isNull() {
		r.Comment = c.scalar()
	} else {
		r.Comment = "business user " + r.Name
	}
	if roles := n.get("roles"); roles != nil && len(roles.items()) > 0 {
		// Exact size: one inventory holds tens of thousands of these.
		r.MemberOf = make([]model.Membership, 0, len(roles.items()))
		for _, it := range roles.items() {
			r.MemberOf = append(r.MemberOf, decodeMembership(it))
		}
	}
	r.Settings = decodeSettings(n.get("parameters"))
	return r
}

func decodeMembership(n *node) model.Membership {
	if n.kind == kindString {
		return model.Membership{Role: n.scalar()}
	}
	st := optStr(n.get("state"))
	return model.Membership{
		Role:    optStr(n.get("name")),
		Revoke:  st == "revoke" || st == "absent",
		Admin:   model.OptBoolOf(optBool(n.get("admin"))),
		Set:     model.OptBoolOf(optBool(n.get("set"))),
		Inherit: model.OptBoolOf(optBool(n.get("inherit"))),
	}
}

// decodeSettings reads a parameters map: null skips a key, DEFAULT (any
// case) resets it, as in Pigsty's pg-user.sql / pg-db.sql.
func decodeSettings(n *node) []model.Setting {
	if n == nil || n.kind != kindMap {
		return nil
	}
	var out []model.Setting
	for _, f := range n.fields() {
		if f.value.isNull() {
			continue
		}
		if f.value.kind == kindString && strings.EqualFold(f.value.scalar(), "default") {
			out = append(out, model.Setting{Name: f.key, Reset: true})
			continue
		}
		out = append(out, model.Setting{Name: f.key, Value: f.value.text()})
	}
	return out
}

func (cs *clusterSrc) decodeDatabases() {
	v := cs.primary.get("pg_databases")
	if v == nil || v.kind != kindList {
		return
	}
	for _, it := range v.items() {
		if it.kind != kindMap {
			continue
		}
		cs.c.Databases = append(cs.c.Databases, cs.decodeDatabase(it))
		cs.dbs = append(cs.dbs, it)
	}
}

func (cs *clusterSrc) decodeDatabase(n *node) *model.Database {
	d := &model.Database{
		Name:               optStr(n.get("name")),
		State:              model.DatabaseCreate,
		Owner:              optStr(n.get("owner")),
		Template:           optStr(n.get("template")),
		Strategy:           strings.ToUpper(optStr(n.get("strategy"))),
		Encoding:           optStr(n.get("encoding")),
		Locale:             optStr(n.get("locale")),
		LCCollate:          optStr(n.get("lc_collate")),
		LCCtype:            optStr(n.get("lc_ctype")),
		LocaleProvider:     optStr(n.get("locale_provider")),
		ICULocale:          optStr(n.get("icu_locale")),
		ICURules:           optStr(n.get("icu_rules")),
		BuiltinLocale:      optStr(n.get("builtin_locale")),
		Tablespace:         optStr(n.get("tablespace")),
		IsTemplate:         optBool(n.get("is_template")),
		AllowConn:          optBool(n.get("allowconn")),
		RevokeConn:         optBool(n.get("revokeconn")),
		ConnLimit:          cs.optInt(n.get("connlimit")),
		Settings:           decodeSettings(n.get("parameters")),
		Baseline:           optStr(n.get("baseline")),
		Pgbouncer:          n.get("pgbouncer") == nil || n.get("pgbouncer").boolean(), // null is false, as Ansible's bool reads it
		PoolAuthUser:       optStr(n.get("pool_auth_user")),
		PoolMode:           optStr(n.get("pool_mode")),
		PoolSize:           cs.optInt(n.get("pool_size")),
		PoolSizeMin:        cs.optInt(n.get("pool_size_min")),
		PoolReserve:        cs.optInt(n.get("pool_reserve")),
		PoolConnLimit:      cs.optInt(n.get("pool_connlimit")),
		RegisterDatasource: boolOr(n.get("register_datasource"), true),
	}
	switch optStr(n.get("state")) {
	case "absent":
		d.State = model.DatabaseAbsent
	case "recreate":
		d.State = "recreate" // refused by the checks
	}
	d.Comment = "business database " + d.Name
	if c := n.get("comment"); !c.isNull() {
		d.Comment = c.scalar()
	}
	if l := n.get("schemas"); l != nil {
		for _, it := range l.items() {
			if it.kind == kindString {
				d.Schemas = append(d.Schemas, model.Schema{Name: it.scalar()})
				continue
			}
			d.Schemas = append(d.Schemas, model.Schema{Name: optStr(it.get("name")), Owner: optStr(it.get("owner")),
				Absent: optStr(it.get("state")) == "absent"})
		}
	}
	if l := n.get("extensions"); l != nil {
		for _, it := range l.items() {
			if it.kind == kindString {
				d.Extensions = append(d.Extensions, model.Extension{Name: it.scalar()})
				continue
			}
			d.Extensions = append(d.Extensions, model.Extension{Name: optStr(it.get("name")), Schema: optStr(it.get("schema")),
				Version: optStr(it.get("version")), Absent: optStr(it.get("state")) == "absent"})
		}
	}
	return d
}

func (cs *clusterSrc) decodeHBARule(n *node, def bool) model.HBARule {
	r := model.HBARule{
		User:    optStr(n.get("user")),
		DB:      optStr(n.get("db")),
		Addr:    optStr(n.get("addr")),
		Auth:    optStr(n.get("auth")),
		Title:   optStr(n.get("title")),
		Role:    optStr(n.get("role")),
		Order:   cs.optInt(n.get("order")),
		Default: def,
	}
	if l := n.get("rules"); l != nil {
		for _, it := range l.items() {
			r.Rules = append(r.Rules, it.scalar())
		}
	}
	if len(r.Rules) == 0 {
		r.User = cmp.Or(r.User, "all")
		r.DB = cmp.Or(r.DB, "all")
		r.Auth = cmp.Or(r.Auth, "pwd")
	}
	if r.Role == "" {
		r.Role = "default"
	}
	return r
}
