package pgbouncer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

func intp(n int) *int { return &n }

// cluster is a one-instance cluster with Pigsty's globals and pooler.
func cluster(roles []*model.Role, dbs []*model.Database) *model.Cluster {
	return &model.Cluster{
		Name: "pg-u",
		Globals: model.Globals{AdminIP: "10.10.10.10", Intranet: []string{"10.0.0.0/8"}, DBSU: "postgres",
			ReplicationUser: "replicator", AdminUser: "dbuser_dba", MonitorUser: "dbuser_monitor", PasswordEncryption: "scram-sha-256"},
		Instances: []*model.Instance{{Cluster: "pg-u", Seq: 1, IP: "10.10.10.31", Role: model.RolePrimary, Port: 5432,
			Pooler: model.Pooler{Enabled: true, Port: 6432, SSLMode: "disable", Localhost: "/var/run/postgresql",
				HBA: []model.HBARule{{User: "all", DB: "all", Addr: "localhost", Auth: "pwd", Role: "default"}}}}},
		Roles:     roles,
		Databases: dbs,
	}
}

func verifier(t *testing.T, pw string) string {
	t.Helper()
	v, err := scram.New(pw, bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestUserlistPasswordChoice: where each entry's password comes from
// (see the package doc), and who is in the file.
func TestUserlistPasswordChoice(t *testing.T) {
	stored := verifier(t, "Plain.Pw")
	otherSalt, err := scram.New("Plain.Pw", bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	wrong := verifier(t, "Other.Pw")
	roles := []*model.Role{
		{Name: "dbuser_dba", Password: model.NewSecret("Admin.Pw"), Pgbouncer: true, System: true},
		{Name: "dbuser_monitor", Pgbouncer: true, System: true},
		{Name: "sys_extra", Pgbouncer: true, System: true}, // pg_default_roles: not added by Pigsty
		{Name: "u_spec", Password: model.NewSecret(wrong), Pgbouncer: true},
		{Name: "u_plain", Password: model.NewSecret("Plain.Pw"), Pgbouncer: true},
		{Name: "u_auto", Pgbouncer: true},
		{Name: "u_null", Pgbouncer: true},
		{Name: "u_missing", Pgbouncer: true},
		{Name: "u_off", Password: model.NewSecret("x"), Pgbouncer: false},
		{Name: "u_gone", State: model.StateAbsent, Pgbouncer: true},
	}
	c := cluster(roles, nil)
	in := c.Instances[0]
	rand := bytes.NewReader(bytes.Repeat([]byte{1}, 1024))

	withStored := map[string]model.Secret{"dbuser_dba": model.NewSecret(verifier(t, "Admin.Pw")), "dbuser_monitor": model.NewSecret(wrong),
		"u_plain": model.NewSecret(stored), "u_auto": model.NewSecret(wrong), "u_null": {}, "u_spec": model.NewSecret(stored)}
	f, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: withStored, Rand: rand})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]pgbouncer.Source{
		"postgres": pgbouncer.Empty, "dbuser_dba": pgbouncer.FromStored, "dbuser_monitor": pgbouncer.FromStored,
		"u_spec": pgbouncer.FromSpec, "u_plain": pgbouncer.FromStored, "u_auto": pgbouncer.FromStored, "u_null": pgbouncer.Empty,
	}
	checkSources(t, "with pg_authid", f, want)
	if e := f.Userlist.Entry("u_spec"); e.Password.Reveal() != wrong {
		t.Error("a verifier in the spec must pass through")
	}
	var names []string
	for _, e := range f.Userlist.Entries {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "u_spec u_plain u_null u_auto postgres dbuser_monitor dbuser_dba" {
		t.Errorf("order %q, want sort -r of the lines", got)
	}

	// Without pg_authid: a matching live verifier is kept, a plaintext
	// password is hashed, and a user without one is unknown.
	live := []pgbouncer.Entry{{Name: "u_plain", Password: model.NewSecret(otherSalt)}, {Name: "u_auto", Password: model.NewSecret(wrong)},
		{Name: "dbuser_dba", Password: model.NewSecret(wrong)}}
	f, err = pgbouncer.Render(c, in, pgbouncer.Inputs{Live: live, Rand: rand})
	if err != nil {
		t.Fatal(err)
	}
	checkSources(t, "without pg_authid", f, map[string]pgbouncer.Source{
		"postgres": pgbouncer.Empty, "dbuser_dba": pgbouncer.FromFresh, "dbuser_monitor": pgbouncer.Unknown,
		"u_spec": pgbouncer.FromSpec, "u_plain": pgbouncer.FromLive, "u_auto": pgbouncer.FromLive, "u_null": pgbouncer.Unknown,
		"u_missing": pgbouncer.Unknown,
	})
	if ok, _ := scram.Matches("Admin.Pw", f.Userlist.Entry("dbuser_dba").Password.Reveal()); !ok {
		t.Error("the verifier hashed now does not match the password")
	}
	if _, err := f.Userlist.Text(); err == nil || !strings.Contains(err.Error(), "no verifier for u_null, u_missing, dbuser_monitor") {
		t.Errorf("Text with unknown verifiers: %v", err)
	}
	red := f.Userlist.Redacted()
	if strings.Contains(red, "SCRAM-SHA-256$") || !strings.Contains(red, `"dbuser_monitor" "<pg_authid>"`) || !strings.Contains(red, `"u_plain" "<redacted>"`) ||
		!strings.Contains(red, `"postgres" ""`) {
		t.Errorf("Redacted:\n%s", red)
	}
	if _, err := pgbouncer.Render(c, in, pgbouncer.Inputs{}); err == nil {
		t.Error("Render hashes without a random source")
	}

	// pg_pwd_enc md5: the md5 hash of a plaintext password, computed.
	c.Globals.PasswordEncryption = "md5"
	f, err = pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: withStored})
	if err != nil {
		t.Fatal(err)
	}
	if e := f.Userlist.Entry("u_plain"); e.Source != pgbouncer.FromSpec || e.Password.Reveal() != scram.MD5("Plain.Pw", "u_plain") {
		t.Errorf("md5: %v", e)
	}

	// pgbouncer_auth_query: only the dbsu, the monitor and the admin.
	in.Pooler.AuthQuery = true
	f, err = pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: withStored})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Userlist.Entries) != 3 {
		t.Errorf("auth_query: %v", f.Userlist.Entries)
	}
}

func checkSources(t *testing.T, what string, f *pgbouncer.Files, want map[string]pgbouncer.Source) {
	t.Helper()
	if len(f.Userlist.Entries) != len(want) {
		t.Errorf("%s: entries %v, want %d", what, f.Userlist.Entries, len(want))
	}
	for name, src := range want {
		e := f.Userlist.Entry(name)
		if e == nil || e.Source != src {
			t.Errorf("%s: %s: %v, want from %s", what, name, e, src)
		}
	}
}

// TestRenderOptions: the useropts.txt and database.txt lines, the port
// Pigsty leaves out, and what is refused.
func TestRenderOptions(t *testing.T) {
	roles := []*model.Role{
		{Name: "a", PoolMode: "session"},
		{Name: "b", PoolConnLimit: intp(3)},
		{Name: "c"},
	}
	dbs := []*model.Database{
		{Name: "x", Pgbouncer: true, PoolAuthUser: "a", PoolSize: intp(1), PoolReserve: intp(0)},
		{Name: "y", Pgbouncer: false},
		{Name: "z", Pgbouncer: true, State: model.DatabaseAbsent},
	}
	c := cluster(roles, dbs)
	in := c.Instances[0]
	in.Port = 5433
	f, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: map[string]model.Secret{}})
	if err != nil {
		t.Fatal(err)
	}
	wantOpts := "# pgbouncer user options\n" +
		"a                           = pool_mode=session \n" +
		"b                           =  max_user_connections=3\n"
	wantDB := "# pgbouncer database list\n" +
		"x                           = host=/var/run/postgresql port=5433 auth_user=a pool_size=1 reserve_pool=0\n"
	if f.Useropts != wantOpts || f.Database != wantDB {
		t.Errorf("useropts.txt:\n%s\ndatabase.txt:\n%s", f.Useropts, f.Database)
	}
	c.Roles = append(c.Roles, &model.Role{Name: "d@x", PoolMode: "session"})
	if _, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Stored: map[string]model.Secret{}}); err == nil || !strings.Contains(err.Error(), "'@'") {
		t.Errorf("a user key with '@': %v", err)
	}
	in.Pooler.Enabled = false
	if _, err := pgbouncer.Render(c, in, pgbouncer.Inputs{}); err == nil {
		t.Error("Render of a disabled pooler")
	}
}

// TestParseUserlist: PgBouncer's format, a later line winning, and a line
// that is not a pair reported without its text.
func TestParseUserlist(t *testing.T) {
	v := verifier(t, "secret-Pw")
	text := `"a" "` + v + `"` + "\n" + `"b" ""` + "\r\n" + `"q""uote" "x" trailing` + "\n" +
		"garbage " + v + "\n" + `"a" "md5` + strings.Repeat("0", 32) + `"` + "\n"
	entries, errs := pgbouncer.ParseUserlist(model.NewSecret(text))
	if len(entries) != 3 || entries[0].Name != "a" || entries[0].Password.Kind() != model.SecretMD5 ||
		entries[1].Name != "b" || !entries[1].Password.IsZero() || entries[2].Name != `q"uote` {
		t.Errorf("entries %v", entries)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 4") || strings.Contains(errs[0].Error(), v) {
		t.Errorf("errors %v", errs)
	}
	for _, e := range entries {
		if strings.Contains(e.String(), "md5") {
			t.Errorf("Entry.String shows the password: %s", e)
		}
	}
}
