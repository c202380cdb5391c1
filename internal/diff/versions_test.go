package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// onVersion is the fixture with the primary on server_version_num v.
func onVersion(v int) (*model.Cluster, map[string]*model.InstanceState) {
	c, live := fixture()
	live["pg-x-1"].Version = v
	return c, live
}

// TestMembershipGrantors16: on PostgreSQL 16+ a membership may hold one
// grant per grantor; a revoke, of the membership or of an option, takes
// each grant that holds it, GRANTED BY its grantor, so that the next plan
// is empty. Before 16, one plain REVOKE.
func TestMembershipGrantors16(t *testing.T) {
	grants := func(st *model.InstanceState) {
		st.Role("app").MemberOf = []model.LiveMembership{
			{Role: "dbrole_readonly", Grantor: "dbuser_dba", Admin: true, Inherit: ptr(true), Set: ptr(true)},
			{Role: "dbrole_readonly", Grantor: "postgres", Inherit: ptr(false), Set: ptr(true)},
		}
	}
	c, live := onVersion(160004)
	grants(live["pg-x-1"])
	if p := Cluster(c, live); len(p.Changes) != 0 {
		t.Fatalf("two grants of a listed membership are drift: %+v", p.Changes)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Admin: model.No, Inherit: model.Yes}}
	p := Cluster(c, live)
	m := changesOf(p, plan.KindMembership)
	// INHERIT is on (one grant has it); ADMIN comes off the one grant that holds it.
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE ADMIN OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"` {
		t.Fatalf("admin option off: %+v", m)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Inherit: model.No}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE INHERIT OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"` {
		t.Fatalf("inherit option off: %+v", m)
	}

	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Revoke: true}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	want := `REVOKE "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"; REVOKE "dbrole_readonly" FROM "app" GRANTED BY "postgres"`
	if len(m) != 1 || m[0].Action != plan.ActionRemove || sqlOf(m[0]) != want {
		t.Fatalf("revoke: %+v", m)
	}

	c, live = onVersion(150018)
	live["pg-x-1"].Role("app").MemberOf = []model.LiveMembership{{Role: "dbrole_readonly", Grantor: "dbuser_dba", Admin: true}}
	c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Admin: model.No}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	if len(m) != 1 || sqlOf(m[0]) != `REVOKE ADMIN OPTION FOR "dbrole_readonly" FROM "app"` {
		t.Fatalf("PostgreSQL 15: %+v", m)
	}
}

// TestRefusedForTheVersion: what a spec asks for that the server's major
// does not have is reported, never planned, naming the version.
func TestRefusedForTheVersion(t *testing.T) {
	report := func(t *testing.T, p plan.ClusterPlan, kind plan.Kind, reason string) {
		t.Helper()
		for _, ch := range p.Changes {
			if ch.Kind == kind && ch.Action == plan.ActionReport && len(ch.Statements) == 0 && strings.Contains(ch.Reason, reason) {
				return
			}
		}
		t.Fatalf("no %s report saying %q: %+v", kind, reason, p.Changes)
	}
	t.Run("predefined role", func(t *testing.T) {
		c, live := onVersion(160004)
		c.Role("app").MemberOf = append(c.Role("app").MemberOf, model.Membership{Role: "pg_maintain"},
			model.Membership{Role: "pg_signal_autovacuum_worker"})
		p := Cluster(c, live)
		report(t, p, plan.KindMembership, "PostgreSQL 16 has no role pg_maintain (new in 17)")
		report(t, p, plan.KindMembership, "PostgreSQL 16 has no role pg_signal_autovacuum_worker (new in 18)")
		if m := changesOf(p, plan.KindMembership); len(m) != 2 {
			t.Fatalf("something else planned: %+v", m)
		}
		live["pg-x-1"].Version = 170000
		live["pg-x-1"].Roles = append(live["pg-x-1"].Roles, &model.LiveRole{Name: "pg_maintain", Inherit: true, ConnLimit: -1})
		m := changesOf(Cluster(c, live), plan.KindMembership)
		if len(m) != 2 || sqlOf(m[1]) != `GRANT "pg_maintain" TO "app"` {
			t.Fatalf("PostgreSQL 17: %+v", m)
		}
	})
	t.Run("membership options before 16", func(t *testing.T) {
		c, live := onVersion(150018)
		c.Role("app").MemberOf = []model.Membership{{Role: "dbrole_readonly", Set: model.No}}
		report(t, Cluster(c, live), plan.KindMembership, "PostgreSQL 15 has no INHERIT or SET option on a membership (new in 16)")
	})
	t.Run("database options", func(t *testing.T) {
		c, live := onVersion(150018)
		c.Databases = []*model.Database{{Name: "app", State: model.DatabaseCreate, Owner: "app", LocaleProvider: "icu",
			ICULocale: "und", ICURules: "&a < b", Schemas: []model.Schema{{Name: "s1"}}}}
		p := Cluster(c, live)
		report(t, p, plan.KindDatabase, "PostgreSQL 15 has no ICU_RULES (new in 16)")
		if len(p.Changes) != 1 {
			t.Fatalf("planned inside a refused database: %+v", p.Changes)
		}
		c.DefaultPrivileges = []string{"GRANT SELECT ON TABLES TO dbrole_readonly"} // planned in every database
		for _, ch := range changesOf(Cluster(c, live), plan.KindDefaultPrivilege) {
			if strings.HasPrefix(ch.Object, "app") || strings.Contains(ch.Object, " app") {
				t.Fatalf("default privileges planned inside a refused database: %+v", ch)
			}
		}
		c.DefaultPrivileges = nil
		live["pg-x-1"].Version = 160004
		db := changesOf(Cluster(c, live), plan.KindDatabase)
		if len(db) != 1 || !strings.Contains(sqlOf(db[0]), `ICU_RULES '&a < b'`) {
			t.Fatalf("PostgreSQL 16: %+v", db)
		}
		c.Databases[0].LocaleProvider, c.Databases[0].ICULocale, c.Databases[0].ICURules = "builtin", "", ""
		c.Databases[0].BuiltinLocale = "C.UTF-8"
		report(t, Cluster(c, live), plan.KindDatabase, "PostgreSQL 16 has no LOCALE_PROVIDER builtin (new in 17), no BUILTIN_LOCALE (new in 17)")
		live["pg-x-1"].Version = 130023
		c.Databases[0].LocaleProvider, c.Databases[0].BuiltinLocale, c.Databases[0].Strategy = "", "", "wal_log"
		report(t, Cluster(c, live), plan.KindDatabase, "PostgreSQL 13 has no STRATEGY (new in 15)")
	})
	t.Run("parameter", func(t *testing.T) {
		c, live := onVersion(130023)
		c.Instances[0].Parameters = []model.Parameter{{Name: "idle_session_timeout", Value: "0"}}
		report(t, Cluster(c, live), plan.KindParameter, "PostgreSQL 13 does not know this parameter")
	})
}

// TestGrantNeedsAdmin16: from PostgreSQL 16 a reconciler that is not a
// superuser may grant only roles it holds ADMIN OPTION on (directly or
// through a group); CREATEROLE no longer suffices.
func TestGrantNeedsAdmin16(t *testing.T) {
	c, live := onVersion(160004)
	st := live["pg-x-1"]
	st.Session.User, st.Session.Superuser = "dbuser_bot", false
	st.Roles = append(st.Roles, &model.LiveRole{Name: "dbuser_bot", Login: true, CreateRole: true, ConnLimit: -1})
	st.Role("app").MemberOf = nil
	p := Cluster(c, live)
	m := changesOf(p, plan.KindMembership)
	if len(m) != 1 || m[0].Action != plan.ActionReport ||
		!strings.Contains(m[0].Reason, "from PostgreSQL 16 only a role with ADMIN OPTION on dbrole_readonly may grant it, and dbuser_bot has none") {
		t.Fatalf("without ADMIN: %+v", m)
	}
	// ADMIN through a group is enough.
	st.Roles = append(st.Roles, &model.LiveRole{Name: "grp", ConnLimit: -1,
		MemberOf: []model.LiveMembership{{Role: "dbrole_readonly", Admin: true, Grantor: "postgres"}}})
	st.Role("dbuser_bot").MemberOf = []model.LiveMembership{{Role: "grp", Grantor: "postgres"}}
	m = changesOf(Cluster(c, live), plan.KindMembership)
	if len(m) != 1 || sqlOf(m[0]) != `GRANT "dbrole_readonly" TO "app"` {
		t.Fatalf("with ADMIN through grp: %+v", m)
	}
	// Before 16, CREATEROLE was enough.
	st.Version = 150018
	st.Role("dbuser_bot").MemberOf = nil
	if m := changesOf(Cluster(c, live), plan.KindMembership); len(m) != 1 || m[0].Action != plan.ActionCreate {
		t.Fatalf("PostgreSQL 15: %+v", m)
	}
}

// TestMD5Deprecated18: PostgreSQL 18 deprecates md5 passwords: a spec that
// asks for one is reported, a stored one the spec leaves alone is noted;
// 17 says nothing.
func TestMD5Deprecated18(t *testing.T) {
	c, live := onVersion(180004)
	c.Role("app").Password = model.NewSecret("md5" + strings.Repeat("0", 32))
	live["pg-x-1"].Role("app").Password = c.Role("app").Password
	live["pg-x-1"].Role("dbrole_readonly").Password = model.NewSecret("md5" + strings.Repeat("1", 32))
	p := Cluster(c, live)
	pw := map[string]plan.Change{}
	for _, ch := range changesOf(p, plan.KindPassword) {
		pw[ch.Object] = ch
	}
	if len(pw) != 2 || pw["app"].Action != plan.ActionReport ||
		!strings.Contains(pw["app"].Reason, "the spec holds an md5 hash: PostgreSQL 18 deprecates md5 passwords") ||
		pw["dbrole_readonly"].Action != plan.ActionNote {
		t.Fatalf("PostgreSQL 18: %+v", pw)
	}
	c.Role("app").Password = model.NewSecret("plain secret")
	c.Globals.PasswordEncryption = "md5"
	found := false
	for _, ch := range changesOf(Cluster(c, live), plan.KindPassword) {
		found = found || ch.Object == "app" && ch.Action == plan.ActionReport && strings.Contains(ch.Reason, "pg_pwd_enc is md5: PostgreSQL 18")
	}
	if !found {
		t.Fatal("pg_pwd_enc md5 on PostgreSQL 18: no report")
	}
	live["pg-x-1"].Version = 170000
	for _, ch := range changesOf(Cluster(c, live), plan.KindPassword) {
		if strings.Contains(ch.Reason, "deprecates") {
			t.Fatalf("PostgreSQL 17: %+v", ch)
		}
	}
}

// TestMaintain17: the MAINTAIN privilege (and ALL including it on tables)
// is PostgreSQL 17's; a clause with it is refused on 16.
func TestMaintain17(t *testing.T) {
	c, live := onVersion(160004)
	c.DefaultPrivileges = []string{"GRANT MAINTAIN ON TABLES TO dbrole_readonly"}
	st := live["pg-x-1"]
	st.Roles = append(st.Roles, &model.LiveRole{Name: "postgres", Login: true, Superuser: true})
	c.Globals.DBSU, c.Globals.AdminUser = "postgres", "dbuser_dba"
	dp := changesOf(Cluster(c, live), plan.KindDefaultPrivilege)
	if len(dp) != 1 || dp[0].Action != plan.ActionReport || dp[0].Reason != "not planned: PostgreSQL 16 has no MAINTAIN privilege (new in 17)" {
		t.Fatalf("PostgreSQL 16: %+v", dp)
	}
	st.Version = 170000
	dp = changesOf(Cluster(c, live), plan.KindDefaultPrivilege)
	if len(dp) != 2 || sqlOf(dp[0]) != `ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" GRANT MAINTAIN ON TABLES TO "dbrole_readonly"` {
		t.Fatalf("PostgreSQL 17: %+v", dp)
	}
	// ALL: every table privilege, MAINTAIN included from 17.
	c.DefaultPrivileges = []string{"GRANT ALL ON TABLES TO dbrole_readonly"}
	var acl []model.DefaultACL
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"} {
		for _, owner := range []string{"postgres", "dbuser_dba"} {
			acl = append(acl, model.DefaultACL{Owner: owner, ObjectType: "TABLES", Grantee: "dbrole_readonly", Privilege: p})
		}
	}
	st.Database("postgres").DefaultACL = acl
	dp = changesOf(Cluster(c, live), plan.KindDefaultPrivilege)
	if len(dp) != 2 || !strings.Contains(sqlOf(dp[0]), "GRANT MAINTAIN ON TABLES") {
		t.Fatalf("ALL on PostgreSQL 17 without MAINTAIN: %+v", dp)
	}
	st.Version = 160004
	if dp := changesOf(Cluster(c, live), plan.KindDefaultPrivilege); len(dp) != 0 {
		t.Fatalf("ALL on PostgreSQL 16: %+v", dp)
	}
}

// TestLocaleOptionsCompared: an existing database's locale provider, ICU
// locale, ICU rules (16+) and builtin locale (17+) are compared with the
// spec's; a difference is a note (they are creation-only), never drift, and
// the names the server canonicalises (en_US as en-US, C.UTF8 as C.UTF-8)
// are no difference.
func TestLocaleOptionsCompared(t *testing.T) {
	notes := func(c *model.Cluster, live map[string]*model.InstanceState) string {
		var out []string
		for _, ch := range Cluster(c, live).Changes {
			if ch.Kind != plan.KindDatabase || ch.Object != "app" {
				continue
			}
			if ch.Action != plan.ActionNote {
				t.Fatalf("locale options planned as %s: %+v", ch.Action, ch)
			}
			out = append(out, ch.Before)
		}
		return strings.Join(out, "|")
	}
	setup := func(v int, db model.LiveDatabase, want model.Database) (*model.Cluster, map[string]*model.InstanceState) {
		c, live := onVersion(v)
		db.Name, db.Owner, db.AllowConn, db.ConnLimit, db.Inside = "app", "postgres", true, -1, true
		live["pg-x-1"].Databases = append(live["pg-x-1"].Databases, &db)
		want.Name, want.Owner = "app", "postgres"
		c.Databases = []*model.Database{&want}
		return c, live
	}
	icu := model.LiveDatabase{LocaleProvider: "icu", ICULocale: "en-US", ICURules: "&a < g"}
	for _, tc := range []struct {
		name    string
		version int
		live    model.LiveDatabase
		spec    model.Database
		want    string
	}{
		{"same icu", 160004, icu, model.Database{LocaleProvider: "icu", ICULocale: "en_US", ICURules: "&a < g"}, ""},
		{"icu rules differ", 160004, icu, model.Database{LocaleProvider: "icu", ICURules: "&b < c"},
			"icu_rules is &a < g, the spec says &b < c"},
		{"icu rules not set", 160004, model.LiveDatabase{LocaleProvider: "icu", ICULocale: "en-US"},
			model.Database{ICURules: "&b < c"}, "icu_rules is not set, the spec says &b < c"},
		{"icu locale differs", 150018, icu, model.Database{ICULocale: "de-DE"}, "icu_locale is en-US, the spec says de-DE"},
		{"provider differs", 170006, model.LiveDatabase{LocaleProvider: "libc"},
			model.Database{LocaleProvider: "builtin", BuiltinLocale: "C.UTF-8"}, "locale_provider is libc, the spec says builtin"},
		{"same builtin", 170006, model.LiveDatabase{LocaleProvider: "builtin", BuiltinLocale: "C.UTF-8"},
			model.Database{LocaleProvider: "builtin", BuiltinLocale: "C.UTF8"}, ""},
		{"builtin locale differs", 180001, model.LiveDatabase{LocaleProvider: "builtin", BuiltinLocale: "C.UTF-8"},
			model.Database{BuiltinLocale: "PG_UNICODE_FAST"}, "builtin_locale is C.UTF-8, the spec says PG_UNICODE_FAST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := notes(setup(tc.version, tc.live, tc.spec)); got != tc.want {
				t.Errorf("notes %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDeclaredVersion: an instance whose server runs another major than
// its pg_version is reported (drift, no SQL) on that instance; the same
// major, or no pg_version, is no change.
func TestDeclaredVersion(t *testing.T) {
	for _, tc := range []struct {
		declared, server int
		want             string
	}{
		{0, 170006, ""},
		{18, 180001, ""},
		{18, 170006, "pg_version is 18 but the server runs PostgreSQL 17"},
		{15, 180001, "pg_version is 15 but the server runs PostgreSQL 18"},
	} {
		c, live := onVersion(tc.server)
		c.Primary().PGVersion = tc.declared
		var got []plan.Change
		for _, ch := range Cluster(c, live).Changes {
			if ch.Object == "server_version" {
				got = append(got, ch)
			}
		}
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("pg_version %d on %d: %+v", tc.declared, tc.server, got)
		case tc.want != "" && (len(got) != 1 || !got[0].Drift() || got[0].Action != plan.ActionReport ||
			len(got[0].Statements) != 0 || got[0].Instance != "pg-x-1" || !strings.Contains(got[0].Reason, tc.want)):
			t.Errorf("pg_version %d on %d: %+v, want a report saying %q", tc.declared, tc.server, got, tc.want)
		}
	}
}

// TestChangeNeedsAdmin16: from PostgreSQL 16 a reconciler that is not a
// superuser can neither revoke a membership of a role it holds no ADMIN
// OPTION on nor change its options, nor revoke a grant another role made
// without that role's privileges: all reported, naming the reason; with
// ADMIN OPTION on its own grant, or before 16, they are planned.
func TestChangeNeedsAdmin16(t *testing.T) {
	c, live := onVersion(170006)
	st := live["pg-x-1"]
	st.Session.User, st.Session.Superuser = "dbuser_bot", false
	st.Roles = append(st.Roles, &model.LiveRole{Name: "dbuser_bot", Login: true, CreateRole: true, ConnLimit: -1})
	st.Role("app").MemberOf = []model.LiveMembership{{Role: "dbrole_readonly", Grantor: "postgres", Inherit: ptr(true), Set: ptr(true)}}
	for _, tc := range []struct {
		name, verb string
		m          model.Membership
	}{
		{"options", "change the options of its memberships", model.Membership{Role: "dbrole_readonly", Inherit: model.No}},
		{"revoke", "revoke it", model.Membership{Role: "dbrole_readonly", Revoke: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Role("app").MemberOf = []model.Membership{tc.m}
			st.Version, st.Role("dbuser_bot").MemberOf = 170006, nil
			m := changesOf(Cluster(c, live), plan.KindMembership)
			if len(m) != 1 || m[0].Action != plan.ActionReport || len(m[0].Statements) != 0 ||
				!strings.Contains(m[0].Reason, "only a role with ADMIN OPTION on dbrole_readonly may "+tc.verb+", and dbuser_bot has none") {
				t.Fatalf("without ADMIN: %+v", m)
			}
			// With ADMIN, a grant made by another role (the bootstrap
			// superuser) still needs that role's privileges; its own, not.
			st.Role("dbuser_bot").MemberOf = []model.LiveMembership{{Role: "dbrole_readonly", Admin: true, Grantor: "postgres"}}
			m = changesOf(Cluster(c, live), plan.KindMembership)
			if len(m) != 1 || m[0].Action != plan.ActionReport ||
				!strings.Contains(m[0].Reason, "dbrole_readonly was granted by postgres, and from PostgreSQL 16 only a role with the privileges of postgres may revoke that grant") {
				t.Fatalf("with ADMIN, granted by postgres: %+v", m)
			}
			st.Role("app").MemberOf[0].Grantor = "dbuser_bot"
			defer func() { st.Role("app").MemberOf[0].Grantor = "postgres" }()
			if m := changesOf(Cluster(c, live), plan.KindMembership); len(m) != 1 || len(m[0].Statements) == 0 {
				t.Fatalf("with ADMIN, granted by dbuser_bot: %+v", m)
			}
			st.Version, st.Role("dbuser_bot").MemberOf = 150018, nil
			if tc.m.Inherit.Known() {
				return // no INHERIT option before 16
			}
			if m := changesOf(Cluster(c, live), plan.KindMembership); len(m) != 1 || len(m[0].Statements) == 0 {
				t.Fatalf("PostgreSQL 15: %+v", m)
			}
		})
	}
}

// TestGrantsFoundHoweverListed: a membership's grants are found whether
// they are adjacent in the live role's list, apart, or among more than
// grantScanMax memberships (the index): the same plan each time, and none
// when in sync.
func TestGrantsFoundHoweverListed(t *testing.T) {
	a := model.LiveMembership{Role: "dbrole_readonly", Grantor: "dbuser_dba", Admin: true, Inherit: ptr(true), Set: ptr(true)}
	b := model.LiveMembership{Role: "dbrole_readonly", Grantor: "postgres", Inherit: ptr(false), Set: ptr(true)}
	other := model.LiveMembership{Role: "pg_monitor", Grantor: "replicator", Inherit: ptr(true), Set: ptr(false)}
	var many []model.LiveMembership
	var manySpec []model.Membership
	for i := range grantScanMax + 4 {
		role := fmt.Sprintf("grp_%02d", i)
		many = append(many, model.LiveMembership{Role: role, Grantor: "postgres", Inherit: ptr(true), Set: ptr(true)})
		manySpec = append(manySpec, model.Membership{Role: role})
	}
	for name, list := range map[string][]model.LiveMembership{
		"adjacent": {a, b, other},
		"apart":    {a, other, b},
		"indexed":  append(append([]model.LiveMembership{a}, many...), other, b),
	} {
		c, live := onVersion(160004)
		for _, m := range many {
			c.Roles = append(c.Roles, &model.Role{Name: m.Role, State: model.StateCreate, Login: ptr(false)})
			live["pg-x-1"].Roles = append(live["pg-x-1"].Roles, &model.LiveRole{Name: m.Role, Inherit: true, ConnLimit: -1})
		}
		live["pg-x-1"].Role("app").MemberOf = list
		spec := []model.Membership{{Role: "dbrole_readonly"}, {Role: "pg_monitor"}}
		if name == "indexed" {
			spec = append(spec, manySpec...)
		}
		c.Role("app").MemberOf = spec
		if m := changesOf(Cluster(c, live), plan.KindMembership); len(m) != 0 {
			t.Errorf("%s: in sync, planned %+v", name, m)
		}
		spec[0] = model.Membership{Role: "dbrole_readonly", Admin: model.No, Set: model.No}
		m := changesOf(Cluster(c, live), plan.KindMembership)
		want := `REVOKE ADMIN OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"; ` +
			`REVOKE SET OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "dbuser_dba"; ` +
			`REVOKE SET OPTION FOR "dbrole_readonly" FROM "app" GRANTED BY "postgres"`
		if len(m) != 1 || sqlOf(m[0]) != want {
			var got []string
			for _, ch := range m {
				got = append(got, sqlOf(ch))
			}
			t.Errorf("%s: admin and set off:\n got %q\nwant %q", name, got, want)
		}
	}
}
