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

// roleFields are the fields of one pg_users or pg_default_roles entry
// that decodeRole reads, found in one pass: an inventory holds tens of
// thousands of entries, and a lookup per field (most of them absent)
// compared every key of the entry about twenty times.
type roleFields struct {
	name, password, state, comment, roles, parameters            *node
	login, superuser, createdb, createrole, inherit, replication *node
	bypassrls, connlimit, expireIn, expireAt                     *node
	pgbouncer, poolMode, poolConnLimit                           *node
}

func roleFieldsOf(n *node) (r roleFields) {
	for _, f := range n.fields() {
		var to **node
		switch f.key {
		case "name":
			to = &r.name
		case "password":
			to = &r.password
		case "state":
			to = &r.state
		case "comment":
			to = &r.comment
		case "roles":
			to = &r.roles
		case "parameters":
			to = &r.parameters
		case "login":
			to = &r.login
		case "superuser":
			to = &r.superuser
		case "createdb":
			to = &r.createdb
		case "createrole":
			to = &r.createrole
		case "inherit":
			to = &r.inherit
		case "replication":
			to = &r.replication
		case "bypassrls":
			to = &r.bypassrls
		case "connlimit":
			to = &r.connlimit
		case "expire_in":
			to = &r.expireIn
		case "expire_at":
			to = &r.expireAt
		case "pgbouncer":
			to = &r.pgbouncer
		case "pool_mode":
			to = &r.poolMode
		case "pool_connlimit":
			to = &r.poolConnLimit
		default:
			continue
		}
		if *to == nil { // the first of a repeated key, as get finds it
			*to = f.value
		}
	}
	return r
}

func (cs *clusterSrc) decodeRole(n *node, system bool) *model.Role {
	f := roleFieldsOf(n)
	r := &model.Role{
		Name:          optStr(f.name),
		State:         model.StateCreate,
		Password:      model.NewSecret(optStr(f.password)),
		Login:         optBool(f.login),
		Superuser:     optBool(f.superuser),
		CreateDB:      optBool(f.createdb),
		CreateRole:    optBool(f.createrole),
		Inherit:       optBool(f.inherit),
		Replication:   optBool(f.replication),
		BypassRLS:     optBool(f.bypassrls),
		ConnLimit:     cs.optInt(f.connlimit),
		ExpireIn:      cs.optInt(f.expireIn),
		ExpireAt:      optStr(f.expireAt),
		Pgbouncer:     boolOr(f.pgbouncer, false),
		PoolMode:      optStr(f.poolMode),
		PoolConnLimit: cs.optInt(f.poolConnLimit),
		System:        system,
	}
	if optStr(f.state) == "absent" {
		r.State = model.StateAbsent
	}
	if c := f.comment; !c.isNull() {
		r.Comment = c.scalar()
	} else {
		r.Comment = "business user " + r.Name
	}
	if roles := f.roles; roles != nil && len(roles.items()) > 0 {
		// Exact size: one inventory holds tens of thousands of these.
		r.MemberOf = make([]model.Membership, 0, len(roles.items()))
		for _, it := range roles.items() {
			r.MemberOf = append(r.MemberOf, decodeMembership(it))
		}
	}
	r.Settings = decodeSettings(f.parameters)
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
