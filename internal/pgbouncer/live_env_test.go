package pgbouncer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/spec"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// live is a test cluster with a PgBouncer beside its primary, configured
// as Pigsty configures it, and the spec that describes them.
type live struct {
	c           *testenv.Cluster
	b           *bouncer.Bouncer
	appPassword string
}

// pgHBA is the primary's pg_hba.conf for these tests: the dbsu trusted on
// the socket, everyone else by SCRAM, so that PgBouncer's own login to
// PostgreSQL (through pg_localhost, the socket) needs the very verifier
// PostgreSQL holds, as on a Pigsty node (+dbrole_readonly localhost pwd).
const pgHBA = `local all postgres trust
local all all scram-sha-256
host all all 127.0.0.0/8 scram-sha-256
`

// specText is the fleet: the cluster on the test addresses and port, each
// host's pg_localhost its socket directory, dbuser_app (a plaintext
// password, pgbouncer: true) when withApp, database app with pool_size,
// and extra pgb_hba_rules.
func (l *live) specText(withApp bool, poolSize int, pgbRules string) string {
	c := l.c
	users := ""
	if withApp {
		users = fmt.Sprintf(`{name: "dbuser_app", password: %q, pgbouncer: true, pool_mode: "transaction", pool_connlimit: 5, roles: ["dbrole_readwrite"]}`, l.appPassword)
	}
	return fmt.Sprintf(`package fleet
all: vars: {
	admin_ip: "127.0.0.1"
	node_firewall_intranet: ["127.0.0.0/8"]
	pg_admin_password: %q
	pg_monitor_password: %q
}
all: children: "pg-pgb": {
	hosts: {
		%q: {pg_seq: 1, pg_role: "primary", pg_localhost: %q}
		%q: {pg_seq: 2, pg_role: "replica", pg_localhost: %q}
	}
	vars: {
		pg_cluster: "pg-pgb"
		pg_port: %d
		pg_users: [%s]
		pg_databases: [{name: "app", pool_size: %d}]
		pgb_hba_rules: [%s]
	}
}
`, c.SuperPassword, c.MonitorPassword, c.Primary.Addr, c.Primary.SocketDir, c.Replicas[0].Addr, c.Replicas[0].SocketDir,
		c.Port, users, poolSize, pgbRules)
}

// load validates a spec text; it fails the test on errors.
func load(t *testing.T, text string) *model.Cluster {
	t.Helper()
	res := loadResult(t, text)
	if err := res.Err(); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return res.Desired.Cluster("pg-pgb")
}

func loadResult(t *testing.T, text string) *spec.Result {
	t.Helper()
	l, err := spec.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(text)}}, spec.Options{Profile: "none"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// stored reads pg_authid.rolpassword on the primary, as the reconciler's
// inspection does with a superuser session.
func (l *live) stored(t *testing.T) map[string]model.Secret {
	t.Helper()
	conn, err := l.c.Primary.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(t.Context(), "SELECT rolname::text, coalesce(rolpassword, '') FROM pg_authid")
	out := map[string]model.Secret{}
	var name, pw string
	if _, err := pgx.ForEachRow(rows, []any{&name, &pw}, func() error {
		out[name] = model.NewSecret(pw)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// render renders the primary's files for a spec text, with the primary's
// stored verifiers and the live userlist.txt.
func (l *live) render(t *testing.T, text string) (*model.Cluster, *pgbouncer.Files) {
	t.Helper()
	c := load(t, text)
	var liveEntries []pgbouncer.Entry
	if l.b != nil {
		if b, err := l.b.ReadFile("userlist.txt"); err == nil {
			liveEntries, _ = pgbouncer.ParseUserlist(model.NewSecret(string(b)))
		}
	}
	f, err := pgbouncer.Render(c, c.Primary(), pgbouncer.Inputs{Stored: l.stored(t), Live: liveEntries, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// contents are the four files' contents by base name.
func contents(t *testing.T, f *pgbouncer.Files) map[string][]byte {
	t.Helper()
	userlist, err := f.Userlist.Text()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"userlist.txt": []byte(userlist.Reveal()), "useropts.txt": []byte(f.Useropts),
		"database.txt": []byte(f.Database), "pgb_hba.conf": []byte(f.HBA.Text)}
}

// write writes the files (by hand, as the apply of phase 2 will).
func (l *live) write(t *testing.T, f *pgbouncer.Files) {
	t.Helper()
	for name, data := range contents(t, f) {
		if err := l.b.WriteFile(name, data); err != nil {
			t.Fatal(err)
		}
	}
}

// admin opens the admin console as dbuser_dba with its password.
func (l *live) admin(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := l.b.Admin(t.Context(), l.c.SuperUser, l.c.SuperPassword, "disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// reload sends RELOAD through the admin console.
func (l *live) reload(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), "RELOAD", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("RELOAD: %v", err)
	}
}

// inspectPooler reads the pooler's state through its admin console, and
// its files with apply's local file reader (the one that reads
// pg_hba.conf), as the reconciler would on the pooler's host.
func (l *live) inspectPooler(t *testing.T, conn *pgx.Conn, in *model.Instance) *model.PoolerState {
	t.Helper()
	w := apply.NewLocalWriter()
	st, err := inspect.InspectPooler(t.Context(), conn, inspect.PoolerOptions{Instance: in.Name(), Addr: l.b.Addr, Port: l.b.Port,
		ReadFile: func(ctx context.Context, path string) ([]byte, error) {
			b, _, err := w.Read(ctx, in, path)
			return b, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// query logs in through the pooler and runs a query on the server.
func (l *live) query(ctx context.Context, user, password, db, sslmode string) (string, error) {
	conn, err := pgx.Connect(ctx, l.b.ConnString(user, password, db, sslmode))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var who string
	err = conn.QueryRow(ctx, "SELECT current_user || '@' || current_database()", pgx.QueryExecModeSimpleProtocol).Scan(&who)
	return who, err
}

// noSecrets fails when text holds a verifier, an md5 hash or a password.
func noSecrets(t *testing.T, what, text string, passwords ...string) {
	t.Helper()
	if strings.Contains(text, "SCRAM-SHA-256$") || strings.Contains(text, `"md5`) {
		t.Errorf("%s holds a verifier or md5 hash:\n%s", what, text)
	}
	for _, pw := range passwords {
		if pw != "" && strings.Contains(text, pw) {
			t.Errorf("%s holds a password", what)
		}
	}
}
