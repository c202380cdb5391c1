package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// The user the demo adds to reach the database through PgBouncer.
const (
	pooledUser     = "dbuser_demo"
	pooledPassword = "Demo.Pooled.2026"
)

// startPooler starts Debian's PgBouncer beside the primary, configured as
// Pigsty's pgbouncer.ini configures it (client TLS required), with the
// files as pgsql.yml leaves them before any user is added: the admin and
// the monitor in userlist.txt, with the server's verifiers. The daemon
// renders the rest.
func (r *run) startPooler() error {
	c := r.cluster
	verifier := func(role string) (string, error) {
		return c.Primary.LocalValue(r.ctx, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = '"+role+"'")
	}
	dba, err := verifier(c.SuperUser)
	if err != nil {
		return err
	}
	mon, err := verifier(c.MonitorUser)
	if err != nil {
		return err
	}
	userlist := fmt.Sprintf("%q %q\n%q %q\n", c.SuperUser, dba, c.MonitorUser, mon)
	b, err := bouncer.StartBouncer(c, c.Primary, bouncer.Options{SSLMode: "require", Files: map[string][]byte{
		"userlist.txt": []byte(userlist),
		"pgb_hba.conf": []byte("local pgbouncer postgres peer\nhostssl all all 127.0.0.0/8 scram-sha-256\n")}})
	if err != nil {
		return err
	}
	r.pooler = b
	r.say("PgBouncer %s beside the primary on %s:%d (Pigsty's pgbouncer.ini, TLS required), files in %s\n",
		"1.18", b.Addr, b.Port, r.path(b.Dir))
	return nil
}

// poolerVars are the primary's host variables for its PgBouncer.
func (r *run) poolerVars() string {
	return fmt.Sprintf(`pgbouncer_port: %d, pgbouncer_sslmode: "require", pg_localhost: %q`, r.pooler.Port, r.cluster.Primary.Addr)
}

// pooledUserAdded is a signed commit that adds a user with pgbouncer:
// true; it must reach the database through the pooler.
func (r *run) pooledUserAdded() error {
	if err := r.editSpec("pg_users: [", fmt.Sprintf(`pg_users: [
			{name: %q, password: %q, pgbouncer: true, roles: ["dbrole_readonly"], comment: "reaches test through PgBouncer"},`, pooledUser, pooledPassword)); err != nil {
		return err
	}
	r.say("edited %s/pg-test.cue: a user %s with pgbouncer: true\n", r.path(r.repo), pooledUser)
	start := time.Now()
	if err := r.shQuiet(r.git("commit", "-q", "-S", "-a", "-m", pooledUser+": reaches the database through PgBouncer")); err != nil {
		return err
	}
	if err := r.waitFor(pooledUser+" to log in through PgBouncer", func() bool { return r.pooledLogin() == nil }); err != nil {
		return err
	}
	r.say("applied in %s: the role on the primary, then userlist.txt with its verifier copied from pg_authid, RELOAD:\n",
		time.Since(start).Round(100*time.Millisecond))
	// The password from a passfile of its own, as for the reconciler's
	// login: no command line shows it.
	pgpass := filepath.Join(r.Dir, "pgpass_"+pooledUser)
	if err := writePassfile(pgpass, "*:*:*:"+pooledUser+":"+pooledPassword); err != nil {
		return err
	}
	conn := fmt.Sprintf("host=%s port=%d dbname=test user=%s passfile=%s", r.pooler.Addr, r.pooler.Port, pooledUser, r.path(pgpass))
	out, _, err := r.sh(command{argv: []string{"psql", "-X", conn, "-Atc", "SELECT current_user, current_database(), inet_server_port()"}})
	r.say("%s", indent(out))
	if err != nil {
		return err
	}
	out, _, err = r.sh(command{argv: []string{"grep", "-c", `"` + pooledUser + `"`, r.path(r.pooler.Path("userlist.txt"))}})
	r.say("%s", indent(out))
	return err
}

// pooledLogin logs in through the pooler as the pooled user.
func (r *run) pooledLogin() error {
	cfg, err := pgx.ParseConfig(r.pooler.ConnString(pooledUser, pooledPassword, "test", "require"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol).Scan(&one)
}

// writePassfile writes a libpq passfile with one line.
func writePassfile(path, line string) error { return os.WriteFile(path, []byte(line+"\n"), 0o600) }
