package plan

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// shown is a change's statements as one string: "\c db -- " before a
// statement run elsewhere than postgres, "[notx] " before one run outside a
// transaction, statements separated by "; ".
func shown(stmts []Statement) string {
	var out []string
	for _, s := range stmts {
		p := ""
		if s.NoTx {
			p = "[notx] "
		}
		if s.Database != "" {
			p += `\c ` + s.Database + " -- "
		}
		out = append(out, p+s.String())
	}
	return strings.Join(out, "; ")
}

// TestRender: every intent renders the SQL the diff engine has always
// planned for it, identifiers quoted (a role named like a keyword is a
// name) and strings quoted as literals.
func TestRender(t *testing.T) {
	f, tr := false, true
	for _, tc := range []struct {
		name    string
		c       Change
		version int
		want    string
	}{
		{"new role, comment and settings", Change{Action: ActionCreate,
			Intent: Intent{Role: &RoleChange{Name: "NOLOGIN", Attrs: RoleAttrs{Login: &tr, CreateDB: &f, ConnLimit: new(5), ValidUntil: "2027-01-01 00:00:00+00"}},
				Comment:  &CommentChange{On: OnRole, Name: "NOLOGIN", Text: `it's a \ role`},
				Settings: &SettingsChange{On: OnRole, Name: "NOLOGIN", Settings: []model.Setting{{Name: "search_path", Value: "app, public"}}}}}, 150000,
			`CREATE ROLE "NOLOGIN" LOGIN NOCREATEDB CONNECTION LIMIT 5 VALID UNTIL '2027-01-01 00:00:00+00'; ` +
				`COMMENT ON ROLE "NOLOGIN" IS E'it''s a \\ role'; ALTER ROLE "NOLOGIN" SET "search_path" = 'app', 'public'`},
		{"altered role", Change{Action: ActionChange, Intent: Intent{Role: &RoleChange{Name: "app", Attrs: RoleAttrs{Superuser: &f, Replication: &tr}}}}, 150000,
			`ALTER ROLE "app" NOSUPERUSER REPLICATION`},
		{"role change with nothing to set", Change{Action: ActionChange, Intent: Intent{Role: &RoleChange{Name: "app"}}}, 150000, ``},
		{"role removal", Change{Action: ActionRemove, Intent: Intent{Role: &RoleChange{Name: "o'neil", Drop: &RoleDrop{Successor: "postgres", Databases: []string{"postgres", "app"}}}}}, 150000,
			`ALTER ROLE "o'neil" NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'o''neil' AND pid <> pg_backend_pid(); ` +
				`\c postgres -- REASSIGN OWNED BY "o'neil" TO "postgres"; \c postgres -- DROP OWNED BY "o'neil"; ` +
				`\c app -- REASSIGN OWNED BY "o'neil" TO "postgres"; \c app -- DROP OWNED BY "o'neil"; DROP ROLE "o'neil"`},
		{"memberships without options", Change{Action: ActionCreate, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g1", "g2"}}}}, 150000,
			`GRANT "g1", "g2" TO "u"`},
		{"membership with admin, PostgreSQL 15", Change{Action: ActionCreate, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g"}, Admin: &tr, Inherit: &f}}}, 150000,
			`GRANT "g" TO "u" WITH ADMIN OPTION`},
		{"membership with options, PostgreSQL 16", Change{Action: ActionCreate, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g"}, Admin: &tr, Inherit: &f, Set: &tr}}}, 160000,
			`GRANT "g" TO "u" WITH ADMIN TRUE, INHERIT FALSE, SET TRUE`},
		{"membership options, PostgreSQL 15", Change{Action: ActionChange, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g"}, Admin: &tr}}}, 150000,
			`GRANT "g" TO "u" WITH ADMIN OPTION`},
		{"membership options, PostgreSQL 16", Change{Action: ActionChange, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g"}, Admin: &f, Set: &tr}}}, 160000,
			`REVOKE ADMIN OPTION FOR "g" FROM "u"; GRANT "g" TO "u" WITH SET TRUE`},
		{"revoked membership", Change{Action: ActionRemove, Intent: Intent{Membership: &MembershipChange{Member: "u", Roles: []string{"g"}, Grantors: []string{"postgres"}}}}, 160000,
			`REVOKE "g" FROM "u" GRANTED BY "postgres"`},
		{"password", Change{Action: ActionChange, Intent: Intent{Password: &PasswordChange{Role: "u", Password: model.NewSecret("s3cret"), Encryption: "md5"}}}, 150000,
			`ALTER ROLE "u" PASSWORD '<redacted>'`},
		{"database settings", Change{Action: ActionChange, Intent: Intent{Settings: &SettingsChange{On: OnDatabase, Name: "app",
			Settings: []model.Setting{{Name: "work_mem", Value: "64MB"}, {Name: "timezone", Reset: true}}}}}, 150000,
			`ALTER DATABASE "app" SET "work_mem" = '64MB'; ALTER DATABASE "app" RESET "timezone"`},
		{"new database", Change{Action: ActionCreate,
			Intent: Intent{Database: &DatabaseChange{Name: "app", Owner: "app", Template: "template0", Encoding: "UTF8", Strategy: "FILE_COPY", Locale: "C",
				LocaleProvider: "icu", ICULocale: "en-US", Tablespace: "fast", AllowConn: &tr, ConnLimit: new(-1), IsTemplate: &f},
				Comment: &CommentChange{On: OnDatabase, Name: "app", Text: "business database app"},
				Grants: []Grant{{On: OnDatabase, Database: "app", Privileges: []string{"ALL PRIVILEGES"}, Grantee: "app"},
					{On: OnDatabase, Database: "app", Privileges: []string{"CONNECT"}, Revoke: true},
					{On: OnDatabase, Database: "app", Privileges: []string{"CONNECT"}, Grantee: "dbuser_dba", Option: true}}}}, 150000,
			`[notx] CREATE DATABASE "app" OWNER "app" TEMPLATE "template0" ENCODING 'UTF8' STRATEGY FILE_COPY LOCALE 'C' LOCALE_PROVIDER icu ` +
				`ICU_LOCALE 'en-US' TABLESPACE "fast" ALLOW_CONNECTIONS true CONNECTION LIMIT -1 IS_TEMPLATE false; ` +
				`COMMENT ON DATABASE "app" IS 'business database app'; GRANT ALL PRIVILEGES ON DATABASE "app" TO "app"; ` +
				`REVOKE CONNECT ON DATABASE "app" FROM PUBLIC; GRANT CONNECT ON DATABASE "app" TO "dbuser_dba" WITH GRANT OPTION`},
		{"altered database", Change{Action: ActionChange, Intent: Intent{Database: &DatabaseChange{Name: "app", Owner: "o", ConnLimit: new(3),
			AllowConn: &f, IsTemplate: &tr, Tablespace: "slow"}}}, 150000,
			`ALTER DATABASE "app" OWNER TO "o"; ALTER DATABASE "app" CONNECTION LIMIT 3; ALTER DATABASE "app" ALLOW_CONNECTIONS false; ` +
				`ALTER DATABASE "app" IS_TEMPLATE true; [notx] ALTER DATABASE "app" SET TABLESPACE "slow"`},
		{"dropped template database", Change{Action: ActionRemove, Intent: Intent{Database: &DatabaseChange{Name: "old", IsTemplate: &f}}}, 150000,
			`ALTER DATABASE "old" IS_TEMPLATE false; [notx] DROP DATABASE IF EXISTS "old" WITH (FORCE)`},
		{"new schema", Change{Action: ActionCreate, Intent: Intent{Schema: &SchemaChange{Database: "app", Name: "s", Owner: "app"}}}, 150000,
			`\c app -- CREATE SCHEMA IF NOT EXISTS "s" AUTHORIZATION "app"`},
		{"schema owner", Change{Action: ActionChange, Intent: Intent{Schema: &SchemaChange{Database: "app", Name: "s", Owner: "o"}}}, 150000,
			`\c app -- ALTER SCHEMA "s" OWNER TO "o"`},
		{"dropped schema", Change{Action: ActionRemove, Intent: Intent{Schema: &SchemaChange{Database: "app", Name: "s"}}}, 150000,
			`\c app -- DROP SCHEMA IF EXISTS "s" CASCADE`},
		{"new extension", Change{Action: ActionCreate, Intent: Intent{Extension: &ExtensionChange{Database: "app", Name: "postgis", Schema: "gis", Version: "3.4"}}}, 150000,
			`\c app -- CREATE EXTENSION IF NOT EXISTS "postgis" WITH SCHEMA "gis" VERSION '3.4' CASCADE`},
		{"extension update and move", Change{Action: ActionChange, Intent: Intent{Extension: &ExtensionChange{Database: "app", Name: "postgis", Schema: "gis", Version: "3.5"}}}, 150000,
			`\c app -- ALTER EXTENSION "postgis" UPDATE TO '3.5'; \c app -- ALTER EXTENSION "postgis" SET SCHEMA "gis"`},
		{"dropped extension", Change{Action: ActionRemove, Intent: Intent{Extension: &ExtensionChange{Database: "app", Name: "postgis"}}}, 150000,
			`\c app -- DROP EXTENSION IF EXISTS "postgis" CASCADE`},
		{"schema public privileges", Change{Action: ActionChange, Intent: Intent{Grants: []Grant{
			{On: OnSchema, Database: "app", Schema: "public", Privileges: []string{"CREATE"}, Revoke: true},
			{On: OnSchema, Database: "app", Schema: "public", Privileges: []string{"CREATE"}, Grantee: "dbrole_admin"},
			{On: OnSchema, Database: "app", Schema: "Public", Privileges: []string{"USAGE"}}}}}, 150000,
			`\c app -- REVOKE CREATE ON SCHEMA public FROM PUBLIC; \c app -- GRANT CREATE ON SCHEMA public TO "dbrole_admin"; ` +
				`\c app -- GRANT USAGE ON SCHEMA "Public" TO PUBLIC`},
		{"default privileges", Change{Action: ActionChange, Intent: Intent{DefaultPrivileges: &DefaultPrivileges{Database: "app", Owner: "dbuser_dba", Grants: []DefaultGrant{
			{Privileges: []string{"SELECT", "UPDATE"}, ObjectType: "TABLES", Grantee: "dbrole_readwrite", Option: true},
			{Privileges: []string{"EXECUTE"}, ObjectType: "FUNCTIONS"}}}}}, 150000,
			`\c app -- ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_dba" GRANT SELECT, UPDATE ON TABLES TO "dbrole_readwrite" WITH GRANT OPTION; ` +
				`\c app -- ALTER DEFAULT PRIVILEGES FOR ROLE "dbuser_dba" GRANT EXECUTE ON FUNCTIONS TO PUBLIC`},
		{"parameter", Change{Action: ActionChange, Intent: Intent{Parameter: &ParameterChange{Name: "work_mem", Value: model.NewSecret("64MB")}}}, 150000,
			`[notx] ALTER SYSTEM SET "work_mem" = '64MB'`},
		{"parameter that may hold a credential", Change{Action: ActionChange,
			Intent: Intent{Parameter: &ParameterChange{Name: "primary_conninfo", Value: model.NewSecret("host=a password=s3cret")}}}, 150000,
			`[notx] ALTER SYSTEM SET "primary_conninfo" = '<redacted>'`},
		{"parameter reset", Change{Action: ActionChange, Intent: Intent{Parameter: &ParameterChange{Name: "work_mem", Reset: true}}}, 150000,
			`[notx] ALTER SYSTEM RESET "work_mem"`},
		{"a report renders nothing", Change{Action: ActionReport, Intent: Intent{Role: &RoleChange{Name: "bot", Attrs: RoleAttrs{Login: &f}}}}, 150000, ``},
		{"pg_hba.conf", Change{Action: ActionChange, Intent: Intent{HBA: &HBAFile{Content: "local all all peer\n"}}}, 150000, ``},
	} {
		got := tc.c.Render(tc.version)
		if s := shown(got); s != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, s, tc.want)
		}
		for _, st := range got {
			if strings.Contains(st.SQL, "s3cret") {
				t.Errorf("%s: a secret in the SQL: %s", tc.name, st.SQL)
			}
		}
	}
}

// TestRenderPasswordStatement: the password statement carries what the
// executor hashes it with, and the placeholder exactly once.
func TestRenderPasswordStatement(t *testing.T) {
	c := Change{Action: ActionChange, Intent: Intent{Password: &PasswordChange{Role: "u", Password: model.NewSecret("s3cret"), Encryption: "md5"}}}
	st := c.Render(150000)
	if len(st) != 1 || strings.Count(st[0].SQL, PasswordPlaceholder) != 1 || st[0].Password.Reveal() != "s3cret" ||
		st[0].PasswordRole != "u" || st[0].PasswordEncryption != "md5" {
		t.Fatalf("%+v", st)
	}
	p := Change{Action: ActionChange, Intent: Intent{Parameter: &ParameterChange{Name: "archive_command", Value: model.NewSecret("curl -u a:s3cret")}}}
	if st := p.Render(150000); len(st) != 1 || st[0].Password.Reveal() != "curl -u a:s3cret" || strings.Count(st[0].SQL, PasswordPlaceholder) != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestRoleAttrs: the accessors the diff engine and the guards use.
func TestRoleAttrs(t *testing.T) {
	f := false
	a := RoleAttrs{Login: &f, Superuser: new(true), ConnLimit: new(0), ValidUntil: "2001-02-03 00:00:00+00"}
	if got := strings.Join(a.Clauses(), " "); got != `NOLOGIN SUPERUSER CONNECTION LIMIT 0 VALID UNTIL '2001-02-03 00:00:00+00'` {
		t.Errorf("Clauses: %s", got)
	}
	if a.Keyword(AttrLogin) != "NOLOGIN" || a.Keyword(AttrConnLimit) != "CONNECTION LIMIT 0" ||
		a.Keyword(AttrValidUntil) != "VALID UNTIL 2001-02-03 00:00:00+00" || a.Keyword(AttrCreateDB) != "" {
		t.Errorf("Keyword: %q %q %q", a.Keyword(AttrLogin), a.Keyword(AttrConnLimit), a.Keyword(AttrValidUntil))
	}
	with, without := a.Split(AttrLogin, AttrValidUntil)
	if with != (RoleAttrs{Login: a.Login, ValidUntil: a.ValidUntil}) || without != (RoleAttrs{Superuser: a.Superuser, ConnLimit: a.ConnLimit}) {
		t.Errorf("Split: %+v / %+v", with, without)
	}
	if exp, ok := a.Expiry(); !ok || exp.Year() != 2001 {
		t.Errorf("Expiry: %v %v", exp, ok)
	}
	if _, ok := (RoleAttrs{ValidUntil: "infinity"}).Expiry(); ok {
		t.Error("infinity has an expiry")
	}
	if !(RoleAttrs{}).Empty() || a.Empty() {
		t.Error("Empty")
	}
	if AttrValidUntil.String() != "valid_until" || AttrLogin.String() != "login" || RoleAttr(0).String() != "unknown" {
		t.Errorf("String: %s %s %s", AttrValidUntil, AttrLogin, RoleAttr(0))
	}
}
