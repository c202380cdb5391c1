package inspect

import (
	"cmp"
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/scram"
	"github.com/pgreconciler/pgreconciler/internal/spec"
)

// TestPrimaryEveryField creates one object of every kind by SQL and checks
// that Inspect reads each field of it.
func TestPrimaryEveryField(t *testing.T) {
	c := fresh(t)
	p := c.Primary
	execIn(t, p, "postgres",
		"SET password_encryption = 'scram-sha-256'",
		`CREATE ROLE r_all SUPERUSER NOINHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS
			CONNECTION LIMIT 7 VALID UNTIL '2031-02-03 04:05:06+00' PASSWORD 'scram secret'`,
		"SET password_encryption = 'md5'",
		"CREATE ROLE r_md5 LOGIN PASSWORD 'md5 secret'",
		"CREATE ROLE r_inf VALID UNTIL 'infinity'",
		"CREATE ROLE g_read",
		"GRANT g_read TO r_md5 WITH ADMIN OPTION",
		"GRANT g_read TO r_inf",
		"COMMENT ON ROLE r_all IS 'every attribute'",
		"ALTER ROLE r_inf SET search_path = app, public",
		"ALTER ROLE r_inf SET application_name = 'a=b'",
		"CREATE DATABASE app OWNER r_md5 CONNECTION LIMIT 5",
		"ALTER ROLE r_inf IN DATABASE app SET work_mem = '8MB'",
		"COMMENT ON DATABASE app IS 'business database'",
		"REVOKE CONNECT ON DATABASE app FROM PUBLIC",
		"ALTER DATABASE app SET work_mem = '4MB'",
		"ALTER DATABASE app SET statement_timeout = '1min'",
		"CREATE DATABASE closed ALLOW_CONNECTIONS false",
		"CREATE DATABASE tmpl IS_TEMPLATE true",
		"REVOKE ALL ON DATABASE tmpl FROM PUBLIC",
		"GRANT CONNECT ON DATABASE tmpl TO PUBLIC",
		"ALTER SYSTEM SET checkpoint_timeout = '10min'",
		"ALTER SYSTEM SET shared_buffers = '256MB'",
	)
	switch { // a database's own locale provider, ICU rules (16), the builtin provider (17)
	case c.Major >= 16:
		execIn(t, p, "postgres", "CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' ICU_RULES '&a < g'")
	case c.Major >= 15:
		execIn(t, p, "postgres", "CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
	}
	if c.Major >= 17 {
		execIn(t, p, "postgres", "CREATE DATABASE builtin TEMPLATE template0 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'")
	}
	execIn(t, p, "app",
		"CREATE SCHEMA s1 AUTHORIZATION r_md5",
		"GRANT USAGE ON SCHEMA s1 TO g_read",
		"CREATE EXTENSION pg_stat_statements",
		"CREATE EXTENSION pgcrypto SCHEMA s1",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 GRANT SELECT ON TABLES TO g_read",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 IN SCHEMA s1 GRANT INSERT ON TABLES TO g_read WITH GRANT OPTION",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 IN SCHEMA s1 GRANT USAGE ON SEQUENCES TO PUBLIC",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 GRANT USAGE ON SCHEMAS TO g_read",
		"ALTER DEFAULT PRIVILEGES FOR ROLE r_md5 GRANT USAGE ON TYPES TO g_read",
	)
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	// A line with an error in the HBA file, not reloaded: the view reads
	// the file from disk.
	hba, err := os.ReadFile(p.HBAPath())
	if err != nil {
		t.Fatal(err)
	}
	badHBA := string(hba) + "host all all 10.0.0.0/33 trust\n"
	if err := os.WriteFile(p.HBAPath(), []byte(badHBA), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(p.HBAPath(), hba, 0o600) })

	st := superuser(p).mustInspect(t, "app", "postgres", "closed", "missing", "app")

	t.Run("instance", func(t *testing.T) {
		if st.Cluster != "pg-inspect" || st.Instance != "pg-inspect-1" || st.Addr != p.Addr || st.Port != p.Port {
			t.Errorf("names: %q %q %s:%d", st.Cluster, st.Instance, st.Addr, st.Port)
		}
		if st.Version/10000 != c.Major || st.InRecovery {
			t.Errorf("version %d, in recovery %t", st.Version, st.InRecovery)
		}
		if d := time.Since(st.Now); d < -time.Hour || d > time.Hour {
			t.Errorf("server clock %s is far from ours", st.Now)
		}
		if st.DataDir != p.DataDir || st.HBAFile != p.HBAPath() || !st.AuthidReadable {
			t.Errorf("data dir %q, hba file %q, authid readable %t", st.DataDir, st.HBAFile, st.AuthidReadable)
		}
		want := model.Session{User: c.SuperUser, Database: "postgres", ClientAddr: st.Session.ClientAddr,
			SSL: true, Superuser: true, ApplicationName: testAppName}
		if st.Session != want || !strings.HasPrefix(st.Session.ClientAddr, "127.") {
			t.Errorf("session %+v", st.Session)
		}
	})

	t.Run("roles", func(t *testing.T) {
		if !slices.IsSortedFunc(st.Roles, func(a, b *model.LiveRole) int { return cmp.Compare(a.Name, b.Name) }) {
			t.Error("roles are not sorted by name")
		}
		predefined := []string{"pg_monitor", "postgres"}
		if c.Major >= 14 {
			predefined = append(predefined, "pg_read_all_data")
		}
		// Every predefined role of this major is one a spec may name.
		for _, r := range st.Roles {
			if strings.HasPrefix(r.Name, "pg_") && !spec.BuiltinRoles[r.Name] {
				t.Errorf("PostgreSQL %d's predefined role %s is not in spec.BuiltinRoles", c.Major, r.Name)
			}
		}
		for _, name := range predefined {
			if st.Role(name) == nil {
				t.Errorf("role %s is missing", name)
			}
		}
		if ok, err := scram.Matches("scram secret", st.Role("r_all").Password.Reveal()); !ok || err != nil {
			t.Errorf("r_all's password is not the SCRAM verifier of its password: %v", err)
		}
		if got := st.Role("r_md5").Password.Reveal(); got != scram.MD5("md5 secret", "r_md5") {
			t.Errorf("r_md5's password is %s", st.Role("r_md5").Password.Kind())
		}
		if until := st.Role("r_all").ValidUntil; until == nil || !until.Equal(time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)) {
			t.Errorf("r_all valid until %v", until)
		}
		if !st.Role("r_inf").Password.IsZero() || st.Role("dbuser_monitor").Password.Kind() != model.SecretSCRAM {
			t.Error("r_inf has a password or dbuser_monitor has none")
		}
		comment := "every attribute"
		// PostgreSQL 16+ records a superuser's grant as the bootstrap
		// superuser's, with the INHERIT and SET options.
		grantor, on := c.SuperUser, (*bool)(nil)
		if c.Major >= 16 {
			grantor, on = "postgres", ptr(true)
		}
		want := map[string]model.LiveRole{
			"r_all": {Name: "r_all", Superuser: true, CreateRole: true, CreateDB: true, Login: true,
				Replication: true, BypassRLS: true, ConnLimit: 7, Comment: &comment},
			"r_md5": {Name: "r_md5", Inherit: true, Login: true, ConnLimit: -1,
				MemberOf: []model.LiveMembership{{Role: "g_read", Admin: true, Inherit: on, Set: on, Grantor: grantor}}},
			"r_inf": {Name: "r_inf", Inherit: true, ConnLimit: -1, ValidUntil: &time.Time{}, Infinity: true,
				MemberOf: []model.LiveMembership{{Role: "g_read", Inherit: on, Set: on, Grantor: grantor}},
				Settings: []model.LiveRoleSetting{
					{Name: "application_name", Value: "a=b"},
					{Name: "search_path", Value: "app, public"},
					{Database: "app", Name: "work_mem", Value: "8MB"},
				}},
			"g_read": {Name: "g_read", Inherit: true, ConnLimit: -1},
			"dbuser_monitor": {Name: "dbuser_monitor", Inherit: true, Login: true, ConnLimit: -1,
				MemberOf: []model.LiveMembership{{Role: "pg_monitor", Inherit: on, Set: on, Grantor: "postgres"}}},
		}
		for name, w := range want {
			r := st.Role(name)
			if r == nil {
				t.Errorf("role %s is missing", name)
				continue
			}
			got := *r
			if got.OID == 0 {
				t.Errorf("role %s has no oid", name)
			}
			if name == "r_md5" && (got.Owns[""] != 1 || got.Owns["app"] == 0) { // the database app; s1 and default privileges in it
				t.Errorf("role r_md5 owns %v", got.Owns)
			}
			got.OID, got.Password, got.Owns = 0, model.Secret{}, nil
			if name == "r_all" {
				got.ValidUntil = nil
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("role %s:\n got %+v\nwant %+v", name, got, w)
			}
		}
	})

	t.Run("databases", func(t *testing.T) {
		var names []string
		for _, d := range st.Databases {
			names = append(names, d.Name)
		}
		want := []string{"app", "builtin", "closed", "icu", "postgres", "template0", "template1", "tmpl"}
		if c.Major < 17 {
			want = slices.DeleteFunc(want, func(n string) bool { return n == "builtin" })
		}
		if c.Major < 15 {
			want = slices.DeleteFunc(want, func(n string) bool { return n == "icu" })
		}
		if !slices.Equal(names, want) {
			t.Errorf("databases %v, want %v", names, want)
		}
		app := *st.Database("app")
		comment := "business database"
		inside := app.Schemas != nil
		app.Schemas, app.Extensions, app.DefaultACL = nil, nil, nil
		wantApp := model.LiveDatabase{Name: "app", Owner: "r_md5", ConnLimit: 5, AllowConn: true, Comment: &comment,
			Encoding: "UTF8", Collate: "C.UTF-8", Ctype: "C.UTF-8", LocaleProvider: "libc", Tablespace: "pg_default",
			ACL:      []string{"=T/r_md5", "r_md5=CTc/r_md5"},
			Settings: []model.Setting{{Name: "statement_timeout", Value: "1min"}, {Name: "work_mem", Value: "4MB"}},
			Inside:   true}
		if !reflect.DeepEqual(app, wantApp) || !inside {
			t.Errorf("app:\n got %+v\nwant %+v", app, wantApp)
		}
		for _, tc := range []struct {
			name                string
			allowConn, template bool
			acl                 bool // non-NULL datacl
			inside              bool
		}{
			{"postgres", true, false, false, true},
			{"closed", false, false, false, false},
			{"tmpl", true, true, true, false},
			{"template0", false, true, true, false}, // initdb: =c/postgres
		} {
			d := st.Database(tc.name)
			if d.AllowConn != tc.allowConn || d.IsTemplate != tc.template ||
				(d.ACL != nil) != tc.acl || d.Inside != tc.inside {
				t.Errorf("%s: %+v", tc.name, *d)
			}
		}
		if acl := st.Database("tmpl").ACL; !slices.Contains(acl, "=c/"+c.SuperUser) {
			t.Errorf("tmpl's ACL %v lacks the explicit CONNECT for PUBLIC", acl)
		}
		if c.Major >= 15 {
			wantRules := ""
			if c.Major >= 16 {
				wantRules = "&a < g"
			}
			if icu := st.Database("icu"); icu.LocaleProvider != "icu" || icu.ICULocale != "en-US" || icu.ICURules != wantRules || icu.BuiltinLocale != "" {
				t.Errorf("icu: provider %q, locale %q, rules %q, builtin locale %q", icu.LocaleProvider, icu.ICULocale, icu.ICURules, icu.BuiltinLocale)
			}
		}
		if c.Major >= 17 {
			if b := st.Database("builtin"); b.LocaleProvider != "builtin" || b.BuiltinLocale != "C.UTF-8" || b.ICULocale != "" || b.ICURules != "" {
				t.Errorf("builtin: provider %q, builtin locale %q, icu locale %q, rules %q", b.LocaleProvider, b.BuiltinLocale, b.ICULocale, b.ICURules)
			}
		}
	})

	t.Run("inside app", func(t *testing.T) {
		app := st.Database("app")
		// PostgreSQL 15+'s public schema: owned by pg_database_owner, USAGE
		// for PUBLIC, no CREATE; before, the bootstrap superuser's with
		// CREATE for PUBLIC.
		public := model.LiveSchema{Name: "public", Owner: "pg_database_owner",
			ACL: []string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"}}
		if c.Major < 15 {
			public = model.LiveSchema{Name: "public", Owner: "postgres", ACL: []string{"postgres=UC/postgres", "=UC/postgres"}}
		}
		wantSchemas := []model.LiveSchema{public,
			{Name: "s1", Owner: "r_md5", ACL: []string{"r_md5=UC/r_md5", "g_read=U/r_md5"}}}
		if !reflect.DeepEqual(app.Schemas, wantSchemas) {
			t.Errorf("schemas %+v", app.Schemas)
		}
		// Extension versions are each major's defaults, as the control
		// files say.
		wantExts := []model.LiveExtension{{Name: "pg_stat_statements", Schema: "public"},
			{Name: "pgcrypto", Schema: "s1"}, {Name: "plpgsql", Schema: "pg_catalog", Version: "1.0"}}
		for i := range wantExts {
			if wantExts[i].Version == "" {
				wantExts[i].Version = queryText(t, p, "app", "SELECT default_version FROM pg_available_extensions WHERE name = $1", wantExts[i].Name)
			}
		}
		if !reflect.DeepEqual(app.Extensions, wantExts) {
			t.Errorf("extensions %+v, want %+v", app.Extensions, wantExts)
		}
		acl := func(schema, objType, grantee, priv string, grantable bool) model.DefaultACL {
			return model.DefaultACL{Owner: "r_md5", Schema: schema, ObjectType: objType, Grantee: grantee,
				Privilege: priv, Grantable: grantable}
		}
		// Database-wide entries hold the whole resulting ACL: the owner's
		// own default privileges come along.
		var wantACL []model.DefaultACL
		wantACL = append(wantACL, acl("", "FUNCTIONS", "r_md5", "EXECUTE", false),
			acl("", "SCHEMAS", "g_read", "USAGE", false), acl("", "SCHEMAS", "r_md5", "CREATE", false),
			acl("", "SCHEMAS", "r_md5", "USAGE", false), acl("", "TABLES", "g_read", "SELECT", false))
		tablePrivs := []string{"DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"}
		if c.Major >= 17 {
			tablePrivs = slices.Insert(tablePrivs, 2, "MAINTAIN")
		}
		for _, priv := range tablePrivs {
			wantACL = append(wantACL, acl("", "TABLES", "r_md5", priv, false))
		}
		wantACL = append(wantACL, acl("", "TYPES", "PUBLIC", "USAGE", false), acl("", "TYPES", "g_read", "USAGE", false),
			acl("", "TYPES", "r_md5", "USAGE", false), acl("s1", "SEQUENCES", "PUBLIC", "USAGE", false),
			acl("s1", "TABLES", "g_read", "INSERT", true))
		if !reflect.DeepEqual(app.DefaultACL, wantACL) {
			t.Errorf("default ACL:\n got %+v\nwant %+v", app.DefaultACL, wantACL)
		}
		if pg := st.Database("postgres"); !pg.Inside || len(pg.Schemas) == 0 || len(pg.Extensions) == 0 {
			t.Errorf("postgres was not entered: %+v", *pg)
		}
	})

	t.Run("settings", func(t *testing.T) {
		auto := p.DataDir + "/postgresql.auto.conf"
		v := func(s string) *string { return &s }
		cpt := *st.Settings["checkpoint_timeout"]
		cpt.BootVal, cpt.MinVal, cpt.MaxVal = "", "", ""
		want := model.LiveSetting{Name: "checkpoint_timeout", Setting: "600", Unit: "s", Context: "sighup",
			VarType: "integer", Source: "configuration file", SourceFile: auto, ResetVal: "600",
			FileValue: v("10min"), FileSource: auto, FileApplied: true, Version: st.Version}
		if !reflect.DeepEqual(cpt, want) {
			t.Errorf("checkpoint_timeout:\n got %+v\nwant %+v", cpt, want)
		}
		sb := *st.Settings["shared_buffers"]
		bootSB := "16384" // 128MB; 8MB before 15
		if c.Major < 15 {
			bootSB = "1024"
		}
		if sb.Setting != "16384" || sb.Unit != "8kB" || sb.Context != "postmaster" || !sb.PendingRestart ||
			sb.SourceFile == auto || sb.BootVal != bootSB || sb.MinVal != "16" ||
			sb.FileValue == nil || *sb.FileValue != "256MB" || sb.FileSource != auto || sb.FileApplied ||
			sb.FileError != "setting could not be applied" {
			t.Errorf("shared_buffers: %+v", sb)
		}
		wl := st.Settings["wal_level"]
		if wl.VarType != "enum" || !slices.Contains(wl.EnumVals, "logical") || wl.Setting != "replica" ||
			wl.FileValue == nil || *wl.FileValue != "replica" || !wl.FileApplied {
			t.Errorf("wal_level: %+v", *wl)
		}
		if ws := st.Settings["work_mem"]; ws.FileValue != nil || ws.Source != "default" {
			t.Errorf("work_mem, in no file: %+v", *ws)
		}
	})

	t.Run("hba", func(t *testing.T) {
		if st.HBA == nil || st.HBA.Path != p.HBAPath() || st.HBA.Text != badHBA {
			t.Fatalf("HBA file: %+v", st.HBA)
		}
		rules := st.HBA.Rules
		lines := strings.Count(badHBA, "\n")
		if len(rules) != 6 {
			t.Fatalf("%d HBA rules: %+v", len(rules), rules)
		}
		file := "" // file_name is new in 16
		if c.Major >= 16 {
			file = p.HBAPath()
		}
		first := model.HBARow{Line: 4, Type: "local", Database: []string{"all"}, User: []string{"all"}, AuthMethod: "trust", File: file}
		if !reflect.DeepEqual(rules[0], first) {
			t.Errorf("first rule %+v", rules[0])
		}
		hostAll := model.HBARow{Line: 7, Type: "host", Database: []string{"all"}, User: []string{"all"},
			Address: "127.0.0.0", Netmask: "255.0.0.0", AuthMethod: "scram-sha-256", File: file}
		if !reflect.DeepEqual(rules[3], hostAll) {
			t.Errorf("fourth rule %+v", rules[3])
		}
		last := rules[len(rules)-1]
		if last.Line != lines || last.Error != `invalid CIDR mask in address "10.0.0.0/33"` {
			t.Errorf("error row %+v, want line %d", last, lines)
		}
	})

	t.Run("replication", func(t *testing.T) {
		want := model.ReplicationClient{User: c.ReplUser, ApplicationName: c.Replicas[0].Name(),
			ClientAddr: st.Session.ClientAddr, SSL: true, State: "streaming"}
		if len(st.Replication) != 1 || st.Replication[0] != want {
			t.Errorf("replication %+v, want %+v", st.Replication, want)
		}
	})
}

// TestReplica inspects the streaming replica.
func TestReplica(t *testing.T) {
	c := fresh(t)
	execIn(t, c.Primary, "postgres", "CREATE ROLE seen_on_replica LOGIN", "CREATE DATABASE app")
	if err := c.WaitReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := c.Replicas[0]
	st := superuser(r).mustInspect(t, "app")
	if !st.InRecovery || st.Instance != r.Name() || st.DataDir != r.DataDir || st.HBA == nil {
		t.Errorf("replica: in recovery %t, instance %s, data dir %s, HBA %v", st.InRecovery, st.Instance, st.DataDir, st.HBA)
	}
	if st.Role("seen_on_replica") == nil || !st.Database("app").Inside {
		t.Error("the replica does not show what the primary created")
	}
	if len(st.Replication) != 0 {
		t.Errorf("replication clients on a replica: %+v", st.Replication)
	}
	if pc := st.Settings["primary_conninfo"]; pc == nil || !strings.Contains(pc.Setting, c.Primary.Addr) {
		t.Errorf("primary_conninfo: %+v", pc)
	}
}

// TestUnprivileged inspects as a pg_monitor member: less is read, nothing
// fails.
func TestUnprivileged(t *testing.T) {
	c := fresh(t)
	execIn(t, c.Primary, "postgres", "CREATE ROLE with_password LOGIN PASSWORD 'secret'")
	st := monitor(c.Primary).mustInspect(t, "postgres")
	if st.AuthidReadable || st.HBA != nil || st.Session.Superuser || st.Session.User != c.MonitorUser {
		t.Errorf("authid readable %t, HBA %v, session %+v", st.AuthidReadable, st.HBA, st.Session)
	}
	for _, r := range st.Roles {
		if !r.Password.IsZero() {
			t.Errorf("role %s has a password", r.Name)
		}
	}
	if st.Role("with_password") == nil || st.Role(c.SuperUser) == nil || !st.Role(c.SuperUser).Superuser {
		t.Error("roles are missing")
	}
	if !st.Database("postgres").Inside || st.DataDir != c.Primary.DataDir {
		t.Errorf("postgres inside %t, data dir %q", st.Database("postgres").Inside, st.DataDir)
	}
	// pg_file_settings is for superusers only: File* stay empty.
	if sb := st.Settings["shared_buffers"]; sb == nil || sb.Setting != "16384" || sb.FileValue != nil {
		t.Errorf("shared_buffers: %+v", sb)
	}
	if len(st.Replication) != 1 || st.Replication[0].State != "streaming" {
		t.Errorf("replication: %+v", st.Replication)
	}
}

// TestPartial: a managed database that cannot be entered is reported, the
// rest of the state is kept.
func TestPartial(t *testing.T) {
	c := fresh(t)
	execIn(t, c.Primary, "postgres", "CREATE DATABASE locked", "REVOKE CONNECT ON DATABASE locked FROM PUBLIC",
		"CREATE DATABASE open")
	st, err := monitor(c.Primary).inspect(t, "locked", "open", "postgres")
	var pe *PartialError
	if !errors.As(err, &pe) || st == nil {
		t.Fatalf("want a partial state, got %v", err)
	}
	if len(pe.Databases) != 1 || pe.Databases[0].Database != "locked" || pe.Instance != c.Primary.Name() {
		t.Errorf("partial error %+v", pe)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("want permission denied inside %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "inspect pg-inspect-1: enter database locked: ") {
		t.Errorf("message %q", msg)
	}
	if st.Database("locked").Inside || !st.Database("open").Inside || !st.Database("postgres").Inside {
		t.Error("wrong databases entered")
	}

	// Without Connect only the session's own database can be entered.
	l := superuser(c.Primary)
	conn, err := l.dial(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	opts := l.options("open", "postgres")
	opts.Connect = nil
	st, err = Inspect(t.Context(), conn, opts)
	if !errors.As(err, &pe) || len(pe.Databases) != 1 || pe.Databases[0].Database != "open" ||
		st.Database("open").Inside || !st.Database("postgres").Inside {
		t.Errorf("without Connect: %v", err)
	}
}
