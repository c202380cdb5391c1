package pgbouncer

import (
	"slices"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// CompareState compares what the pooler of instance in has in force, as
// its admin console shows it, with the rendered files: the settings of
// pgbouncer.ini that Pigsty sets and pgreconciler relies on, every
// database of database.txt (SHOW DATABASES, with the pooler's defaults
// for what the entry leaves out) and every user of useropts.txt (SHOW
// USERS). Files right on disk but not reloaded, or refused by the pooler
// at its last reload (PgBouncer then keeps the old configuration and
// RELOAD still succeeds), show up here. pgb_hba.conf and userlist.txt have
// no SHOW command: they are judged by CompareFiles only.
func CompareState(c *model.Cluster, in *model.Instance, want *Files, st *model.PoolerState) []Finding {
	var out []Finding
	out = append(out, compareConfig(c, in, st)...)
	out = append(out, compareDatabases(want, st)...)
	out = append(out, compareUsers(want, st)...)
	return out
}

func stateFinding(f File, object, want, have, reason string) Finding {
	return Finding{File: f, State: true, Object: object, Want: want, Have: have, Reason: reason}
}

// compareConfig checks pgbouncer.ini's settings, which pgreconciler reads
// but does not manage. (Where the files are is not judged: inspect reads
// them where auth_file, auth_hba_file and conffile say, and so will apply
// write them.)
func compareConfig(c *model.Cluster, in *model.Instance, st *model.PoolerState) []Finding {
	g := c.Globals
	var out []Finding
	conf := func(k string) string { return st.Config[k] }
	setting := func(f File, key, want, reason string) {
		if have := conf(key); have != want {
			out = append(out, stateFinding(f, "setting "+key, want, quoteEmpty(have), reason))
		}
	}
	setting(INI, "auth_type", "hba", "Pigsty's pgbouncer.ini authenticates by pgb_hba.conf; with another auth_type the rendered rules are not in force")
	setting(INI, "listen_port", strconv.Itoa(in.Pooler.Port), "pgbouncer_port")
	setting(INI, "client_tls_sslmode", in.Pooler.SSLMode, "pgbouncer_sslmode")
	if v := conf("verbose"); v != "" && v != "0" {
		out = append(out, stateFinding(INI, "setting verbose", "0", v,
			"at verbose 1 and above PgBouncer writes every user's stored SCRAM verifier to its log at each login"))
	}
	if in.Pooler.AuthQuery && conf("auth_user") == "" {
		out = append(out, stateFinding(INI, "setting auth_user", g.DBSU, `""`,
			"pgbouncer_auth_query is on, so business users are left out of userlist.txt, but the pooler has no auth_user to look them up with"))
	}
	for _, l := range []struct {
		key   string
		users []string
	}{{"admin_users", []string{g.DBSU, g.AdminUser}}, {"stats_users", []string{g.DBSU, g.MonitorUser}}} {
		have := splitList(conf(l.key))
		for _, u := range l.users {
			if !slices.Contains(have, u) {
				out = append(out, stateFinding(INI, "setting "+l.key, strings.Join(l.users, ", "), quoteEmpty(conf(l.key)),
					u+" is not in "+l.key+" (Pigsty's pgbouncer.ini lists it): it cannot use the admin console"))
			}
		}
	}
	return out
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// compareDatabases checks every database.txt entry against SHOW DATABASES.
func compareDatabases(want *Files, st *model.PoolerState) []Finding {
	var out []Finding
	live := map[string]*model.PoolerDatabase{}
	for i := range st.Databases {
		live[st.Databases[i].Name] = &st.Databases[i]
	}
	def := func(key string) int {
		n, _ := strconv.Atoi(st.Config[key])
		return n
	}
	wanted := map[string]bool{AdminDatabase: true}
	for _, d := range want.Databases {
		wanted[d.Name] = true
		obj := "database " + d.Name
		l := live[d.Name]
		if l == nil {
			out = append(out, stateFinding(Database, obj, "pooled", "not in SHOW DATABASES",
				"the pooler has not loaded this entry of database.txt (no RELOAD since it was written, or the pooler refused the file)"))
			continue
		}
		port := d.Port
		if port == 0 {
			port = 5432
		}
		for _, v := range []struct {
			what       string
			want, have string
		}{
			{"host", d.Host, l.Host},
			{"port", strconv.Itoa(port), strconv.Itoa(l.Port)},
			{"pool_mode", d.PoolMode, l.PoolMode},
			{"pool_size", intOr(d.PoolSize, def("default_pool_size")), strconv.Itoa(l.PoolSize)},
			{"min_pool_size", intOr(d.MinPoolSize, def("min_pool_size")), strconv.Itoa(l.MinPoolSize)},
			{"reserve_pool", intOr(d.ReservePool, def("reserve_pool_size")), strconv.Itoa(l.ReservePool)},
			{"max_db_connections", intOr(d.MaxDBConnections, def("max_db_connections")), strconv.Itoa(l.MaxConnections)},
		} {
			if v.want != v.have {
				out = append(out, stateFinding(Database, obj+" "+v.what, quoteEmpty(v.want), quoteEmpty(v.have),
					"the value in force differs from database.txt (not reloaded, or refused at the last reload)"))
			}
		}
	}
	for _, l := range st.Databases {
		if !wanted[l.Name] {
			out = append(out, stateFinding(Database, "database "+l.Name, "not pooled", "in SHOW DATABASES",
				"the pooler serves a database that database.txt does not list (not reloaded, or defined elsewhere)"))
		}
	}
	return out
}

func intOr(p *int, def int) string {
	if p != nil {
		return strconv.Itoa(*p)
	}
	return strconv.Itoa(def)
}

// compareUsers checks every useropts.txt entry against SHOW USERS, and
// that no other user has a pool mode of its own.
func compareUsers(want *Files, st *model.PoolerState) []Finding {
	var out []Finding
	live := map[string]*model.PoolerUser{}
	for i := range st.Users {
		live[st.Users[i].Name] = &st.Users[i]
	}
	wanted := map[string]bool{}
	for _, u := range want.Users {
		wanted[u.Name] = true
		obj := "user " + u.Name
		l := live[u.Name]
		if l == nil {
			out = append(out, stateFinding(Useropts, obj, "known", "not in SHOW USERS",
				"the pooler has not loaded this entry of useropts.txt (no RELOAD since it was written, or the pooler refused the file)"))
			continue
		}
		if l.PoolMode != u.PoolMode {
			out = append(out, stateFinding(Useropts, obj+" pool_mode", quoteEmpty(u.PoolMode), quoteEmpty(l.PoolMode),
				"the value in force differs from useropts.txt"))
		}
		if l.MaxUserConnections != nil {
			w, _ := strconv.Atoi(st.Config["max_user_connections"])
			if u.MaxUserConnections != nil {
				w = *u.MaxUserConnections
			}
			if *l.MaxUserConnections != w {
				out = append(out, stateFinding(Useropts, obj+" max_user_connections", strconv.Itoa(w), strconv.Itoa(*l.MaxUserConnections),
					"the value in force differs from useropts.txt"))
			}
		}
	}
	for _, l := range st.Users {
		if !wanted[l.Name] && l.PoolMode != "" {
			out = append(out, stateFinding(Useropts, "user "+l.Name+" pool_mode", `""`, l.PoolMode,
				"the user has a pool mode that useropts.txt does not give it (not reloaded, or defined elsewhere)"))
		}
	}
	return out
}
