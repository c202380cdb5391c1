package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// The PgBouncer beside the primary, read through its admin console
// (dbconn's ConnectConsole, as the CLI and the daemon read it) and its
// pgb_hba.conf, both ways: TLS off then required, auth_type hba with
// SCRAM rules then a trust rule, then md5; the replica runs no pooler.
func TestPoolerOnLiveServers(t *testing.T) {
	c := fresh(t)
	b := bouncer.Start(t, c, c.Primary, bouncer.Options{Files: map[string][]byte{
		"userlist.txt": []byte(`"` + c.SuperUser + `" "` + c.SuperPassword + `"` + "\n"),
		"pgb_hba.conf": []byte("local pgbouncer postgres peer\nhost all " + c.SuperUser + " 127.0.0.0/8 scram-sha-256\n"),
	}})
	spec := specOf(c)
	spec.Instances[0].Pooler = model.Pooler{Enabled: true, Port: b.Port}
	d := dbconn.New(dbconn.Settings{User: c.SuperUser, Password: model.NewSecret(c.SuperPassword), SSLMode: "prefer",
		Passfile: filepath.Join(t.TempDir(), "none"), ConnectTimeout: 10 * time.Second}, nil)
	col := superCollector(t, c)
	col.Pooler = PoolerFrom(func(ctx context.Context, in *model.Instance) (*pgx.Conn, error) {
		return d.ConnectConsole(ctx, in, in.Pooler.Port)
	}, func(_ context.Context, _ *model.Instance, path string) ([]byte, error) { return os.ReadFile(path) })
	expect := func(t *testing.T, seq int, id string, want Status, why string) {
		t.Helper()
		v, ev := judge(t, col, spec, seq, id)
		if v.Status != want || !strings.Contains(v.Why, why) {
			t.Fatalf("%s = %s (%s), want %s (%q)\nevidence: %+v\npooler: %+v", id, v.Status, v.Why, want, why, v.Evidence, ev.Pooler)
		}
	}
	console := func(t *testing.T, sql string) {
		t.Helper()
		conn, err := b.Admin(t.Context(), c.SuperUser, c.SuperPassword, "disable")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	expect(t, 1, "pgbouncer-tls", StatusFail, "accepts clients without TLS (client_tls_sslmode disable)")
	expect(t, 1, "pgbouncer-auth", StatusPass, "every TCP rule of pgb_hba.conf authenticates with scram-sha-256")
	expect(t, 2, "pgbouncer-tls", StatusNotApplicable, "pgbouncer_enabled: false")

	console(t, "SET client_tls_sslmode = 'require'")
	expect(t, 1, "pgbouncer-tls", StatusPass, "requires TLS")

	// The SIGHUP that rereads pgb_hba.conf rereads pgbouncer.ini too:
	// client_tls_sslmode is disable again.
	if err := b.WriteFile("pgb_hba.conf", []byte("local pgbouncer postgres peer\nhost all "+c.SuperUser+" 127.0.0.0/8 scram-sha-256\nhost all all 10.0.0.0/8 trust\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.Signal(t.Context()); err != nil {
		t.Fatal(err)
	}
	expect(t, 1, "pgbouncer-auth", StatusFail, "line 3 of pgb_hba.conf lets TCP clients in with trust")

	console(t, "SET auth_type = 'md5'")
	expect(t, 1, "pgbouncer-auth", StatusFail, "authenticates with auth_type md5")

	// Not reachable: unknown, with why.
	spec.Instances[0].Pooler.Port = b.Port + 1
	expect(t, 1, "pgbouncer-auth", StatusUnknown, "connection refused")
}
