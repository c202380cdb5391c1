package pgbouncer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/scram"
	"github.com/pgreconciler/pgreconciler/internal/spec"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
	"github.com/pgreconciler/pgreconciler/internal/testenv/sshd"
)

// TestLivePooler runs the rendered files on Debian's PgBouncer 1.18 beside
// a real PostgreSQL 15 primary, configured as Pigsty configures it: the
// steps share the pooler and run in order.
func TestLivePooler(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and PgBouncer")
	}
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-pgb", BaseIP: 91})
	l := &live{c: c, appPassword: "App." + rand.Text()}
	if err := c.Primary.WriteFile(c.Primary.HBAPath(), []byte(pgHBA), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Primary.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := c.Primary.Exec(t.Context(), "CREATE DATABASE app"); err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort(c.Primary.Addr)
	if err != nil {
		t.Fatal(err)
	}
	pgbVars := func(text string) string { // pgbouncer_port of the test's pooler
		return strings.Replace(text, `pg_role: "primary",`, `pg_role: "primary", pgbouncer_port: `+strconv.Itoa(port)+`,`, 1)
	}
	base := pgbVars(l.specText(false, 7, ""))
	_, first := l.render(t, base)
	l.b = bouncer.Start(t, c, c.Primary, bouncer.Options{Port: port, LogConnections: true, Files: contents(t, first)})
	conn := l.admin(t)

	t.Run("user added to pg_users logs in through the pooler after RELOAD", func(t *testing.T) {
		// The role exists on the primary (phase 2's apply creates it;
		// here, by hand, with the plaintext the server hashes itself).
		if err := c.Primary.Exec(t.Context(), "CREATE ROLE dbuser_app LOGIN PASSWORD '"+l.appPassword+"'"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.query(t.Context(), "dbuser_app", l.appPassword, "app", "disable"); err == nil {
			t.Fatal("dbuser_app logs in through the pooler before it is in userlist.txt")
		}
		cl, f := l.render(t, pgbVars(l.specText(true, 7, "")))
		e := f.Userlist.Entry("dbuser_app")
		if e == nil || e.Source != pgbouncer.FromStored {
			t.Fatalf("dbuser_app's entry: %+v, want the verifier copied from pg_authid", e)
		}
		l.write(t, f)
		l.reload(t, conn)
		who, err := l.query(t.Context(), "dbuser_app", l.appPassword, "app", "disable")
		if err != nil || who != "dbuser_app@app" {
			t.Fatalf("through the pooler: %q, %v", who, err)
		}
		if _, err := l.query(t.Context(), "dbuser_app", "wrong", "app", "disable"); err == nil {
			t.Error("a wrong password gets through the pooler")
		}
		st := l.inspectPooler(t, conn, cl.Primary())
		if fs := pgbouncer.CompareFiles(f, st); len(fs) > 0 {
			t.Errorf("files differ right after writing them: %v", fs)
		}
		if fs := pgbouncer.CompareState(cl, cl.Primary(), f, st); len(fs) > 0 {
			t.Errorf("state differs right after RELOAD: %v", fs)
		}
		if u := findUser(st, "dbuser_app"); u == nil || u.PoolMode != "transaction" {
			t.Errorf("SHOW USERS: dbuser_app %+v, want pool_mode transaction", u)
		}
	})

	t.Run("a fresh salt cannot log in to PostgreSQL", func(t *testing.T) {
		// Why Render copies pg_authid: the same password hashed with
		// another salt lets the client into the pooler, not the pooler
		// into the server.
		cl, f := l.render(t, pgbVars(l.specText(true, 7, "")))
		fresh, err := pgbouncer.Render(cl, cl.Primary(), pgbouncer.Inputs{Rand: rand.Reader})
		if err != nil {
			t.Fatal(err)
		}
		if e := fresh.Userlist.Entry("dbuser_app"); e == nil || e.Source != pgbouncer.FromFresh {
			t.Fatalf("without pg_authid or a live file: %+v, want a verifier hashed now", e)
		}
		l.write(t, fresh)
		l.reload(t, conn)
		killPools(t, l)
		_, err = l.query(t.Context(), "dbuser_app", l.appPassword, "app", "disable")
		if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
			t.Errorf("with a fresh salt: %v, want the server to refuse the pooler", err)
		}
		l.write(t, f)
		l.reload(t, conn)
		killPools(t, l)
		if _, err := l.query(t.Context(), "dbuser_app", l.appPassword, "app", "disable"); err != nil {
			t.Errorf("with pg_authid's verifier again: %v", err)
		}
	})

	t.Run("a hand-edited userlist.txt is drift, shown without verifiers", func(t *testing.T) {
		cl, f := l.render(t, pgbVars(l.specText(true, 7, "")))
		good, _ := l.b.ReadFile("userlist.txt")
		other := model.NewSecret(strings.Replace(string(good), f.Userlist.Entry("dbuser_app").Password.Reveal(), mustVerifier(t, "Other.Pw"), 1))
		edited := other.Reveal() + `"intruder" "` + mustVerifier(t, "Intruder.Pw") + `"` + "\n"
		if err := l.b.WriteFile("userlist.txt", []byte(edited)); err != nil {
			t.Fatal(err)
		}
		st := l.inspectPooler(t, conn, cl.Primary())
		fs := pgbouncer.CompareFiles(f, st)
		if len(fs) != 1 || fs[0].File != pgbouncer.Userlist {
			t.Fatalf("findings %v, want one for userlist.txt", fs)
		}
		d := strings.Join(fs[0].Diff, "\n")
		for _, want := range []string{`- "dbuser_app" "<redacted>"`, `+ "dbuser_app" "<redacted>"`, `- "intruder" "<redacted>"`} {
			if !strings.Contains(d, want) {
				t.Errorf("diff lacks %s:\n%s", want, d)
			}
		}
		noSecrets(t, "the finding", fs[0].String()+"\n"+d+fs[0].Want+fs[0].Have, l.appPassword)
		if fs[0].Have != "1 unexpected, 1 password differs" {
			t.Errorf("Have = %q", fs[0].Have)
		}
		l.write(t, f)
		if fs := pgbouncer.CompareFiles(f, l.inspectPooler(t, conn, cl.Primary())); len(fs) > 0 {
			t.Errorf("after writing the rendered file again: %v", fs)
		}
	})

	t.Run("pool_size change: not in force until RELOAD", func(t *testing.T) {
		cl, f := l.render(t, pgbVars(l.specText(true, 9, "")))
		l.write(t, f)
		st := l.inspectPooler(t, conn, cl.Primary())
		if fs := pgbouncer.CompareFiles(f, st); len(fs) > 0 {
			t.Errorf("files: %v", fs)
		}
		fs := pgbouncer.CompareState(cl, cl.Primary(), f, st)
		if len(fs) != 1 || fs[0].Object != "database app pool_size" || fs[0].Want != "9" || fs[0].Have != "7" {
			t.Fatalf("before RELOAD: %v, want pool_size 9 not in force", fs)
		}
		l.reload(t, conn)
		st = l.inspectPooler(t, conn, cl.Primary())
		if fs := pgbouncer.CompareState(cl, cl.Primary(), f, st); len(fs) > 0 {
			t.Errorf("after RELOAD: %v", fs)
		}
		if d := findDB(st, "app"); d == nil || d.PoolSize != 9 || d.ReservePool != 30 || d.MaxConnections != 100 {
			t.Errorf("SHOW DATABASES app: %+v, want pool_size 9 and Pigsty's reserve_pool_size 30, max_db_connections 100", d)
		}
	})

	t.Run("a pgb_hba_rules rule locking out the admin is refused, and would lock it out", func(t *testing.T) {
		deny := `{user: "${admin}", db: "all", addr: "world", auth: "deny", title: "no admin", order: 10}`
		text := pgbVars(l.specText(true, 9, deny))
		res := loadResult(t, text)
		var refused []spec.Problem
		for _, p := range res.Problems {
			if p.Rule == spec.RulePooler && p.IsError() {
				refused = append(refused, p)
			}
		}
		if len(refused) != 2 || !strings.Contains(refused[0].Message, "would reject dbuser_dba (admin)") {
			t.Fatalf("problems %v, want the lockout guard to refuse the rule on both instances", res.Problems)
		}
		// What the guard predicts is what PgBouncer does: the same rules
		// on the spec without them (Render does not judge), written and
		// reloaded.
		cl := load(t, pgbVars(l.specText(true, 9, "")))
		ord := 10
		cl.Primary().Pooler.HBA = append(cl.Primary().Pooler.HBA,
			model.HBARule{User: "${admin}", DB: "all", Addr: "world", Auth: "deny", Title: "no admin", Role: "default", Order: &ord})
		f, err := pgbouncer.Render(cl, cl.Primary(), pgbouncer.Inputs{Stored: l.stored(t), Rand: rand.Reader})
		if err != nil {
			t.Fatal(err)
		}
		self := pgbouncer.Victim{Conn: hba.Conn{Addr: netip.MustParseAddr(l.b.Addr), Database: "pgbouncer", User: c.SuperUser},
			Who: "the reconciler (dbuser_dba from " + l.b.Addr + ")"}
		problems := pgbouncer.Lockout(f.HBA.Lines, &f.Userlist, append(pgbouncer.Victims(cl, cl.Primary()), self))
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "would reject the reconciler") }) {
			t.Fatalf("guard: %v, want the reconciler's own login rejected", problems)
		}
		good, _ := l.b.ReadFile("pgb_hba.conf")
		if err := l.b.WriteFile("pgb_hba.conf", []byte(f.HBA.Text)); err != nil {
			t.Fatal(err)
		}
		l.reload(t, conn)
		if a, err := l.b.Admin(t.Context(), c.SuperUser, c.SuperPassword, "disable"); err == nil {
			a.Close(t.Context())
			t.Error("the admin still logs in: the guard's prediction is wrong")
		}
		if m, err := l.b.Admin(t.Context(), c.MonitorUser, c.MonitorPassword, "disable"); err != nil {
			t.Errorf("the monitor, which the guard lets in, is refused: %v", err)
		} else {
			m.Close(t.Context())
		}
		if err := l.b.WriteFile("pgb_hba.conf", good); err != nil {
			t.Fatal(err)
		}
		l.reload(t, conn) // the session opened before the change survives it
		if a, err := l.b.Admin(t.Context(), c.SuperUser, c.SuperPassword, "disable"); err != nil {
			t.Errorf("the admin is refused after restoring the file: %v", err)
		} else {
			a.Close(t.Context())
		}
	})

	t.Run("a reload the pooler refuses keeps the old configuration, and RELOAD succeeds", func(t *testing.T) {
		cl, f := l.render(t, pgbVars(l.specText(true, 11, "")))
		l.write(t, f)
		// A user name PgBouncer 1.18 cannot read as a key (the spec
		// refuses it: pgbouncer.CheckUserKey): the whole configuration
		// fails to load.
		if err := l.b.WriteFile("useropts.txt", []byte(f.Useropts+"bad@user                    = pool_mode=session \n")); err != nil {
			t.Fatal(err)
		}
		l.reload(t, conn)
		st := l.inspectPooler(t, conn, cl.Primary())
		fs := pgbouncer.CompareState(cl, cl.Primary(), f, st)
		if !slices.ContainsFunc(fs, func(f pgbouncer.Finding) bool { return f.Object == "database app pool_size" && f.Have == "9" }) {
			t.Errorf("state findings %v, want pool_size 11 not in force (still 9)", fs)
		}
		if !strings.Contains(l.b.Log(), "config file loading failed") {
			t.Errorf("the pooler did not log the refused reload")
		}
		if err := pgbouncer.CheckUserKey("bad@user"); err == nil {
			t.Error("CheckUserKey accepts what PgBouncer refuses")
		}
		l.write(t, f)
		l.reload(t, conn)
		if fs := pgbouncer.CompareState(cl, cl.Primary(), f, l.inspectPooler(t, conn, cl.Primary())); len(fs) > 0 {
			t.Errorf("after a good reload: %v", fs)
		}
	})

	t.Run("client TLS required; verbose 1 logs verifiers; files read over SSH", func(t *testing.T) {
		r := c.Replicas[0]
		rport, err := testenv.FreePort(r.Addr)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(pgbVars(l.specText(true, 11, "")), `pg_role: "replica",`,
			`pg_role: "replica", pgbouncer_port: `+strconv.Itoa(rport)+`, pgbouncer_sslmode: "require",`, 1)
		cl := load(t, text)
		in := cl.Instance(r.Addr)
		f, err := pgbouncer.Render(cl, in, pgbouncer.Inputs{Stored: l.stored(t), Rand: rand.Reader})
		if err != nil {
			t.Fatal(err)
		}
		rb := bouncer.Start(t, c, r, bouncer.Options{Port: rport, SSLMode: "require", Verbose: 1, LogConnections: true, Files: contents(t, f)})
		rl := &live{c: c, b: rb}
		if _, err := rl.query(t.Context(), "dbuser_app", l.appPassword, "app", "disable"); err == nil {
			t.Error("client_tls_sslmode require lets a client in without TLS")
		}
		if who, err := rl.query(t.Context(), "dbuser_app", l.appPassword, "app", "require"); err != nil || who != "dbuser_app@app" {
			t.Errorf("over TLS: %q, %v", who, err)
		}
		if !strings.Contains(rb.Log(), "stored secret = \"SCRAM-SHA-256$") {
			t.Error("at verbose 1 PgBouncer 1.18 no longer logs the stored secret: update the verbose finding")
		}
		rconn, err := rb.Admin(t.Context(), c.SuperUser, c.SuperPassword, "require")
		if err != nil {
			t.Fatal(err)
		}
		defer rconn.Close(t.Context())
		srv := sshd.Start(t, sshd.Options{})
		w, err := apply.NewSSHWriter(apply.SSHConfig{User: srv.User, KeyFile: srv.ClientKeyFile, KnownHostsFile: srv.KnownHostsFile,
			Addr: func(*model.Instance) string { return srv.Addr }})
		if err != nil {
			t.Fatal(err)
		}
		st, err := inspect.InspectPooler(t.Context(), rconn, inspect.PoolerOptions{Instance: in.Name(),
			ReadFile: func(ctx context.Context, path string) ([]byte, error) {
				b, _, err := w.Read(ctx, in, path)
				return b, err
			}})
		if err != nil {
			t.Fatal(err)
		}
		if fs := pgbouncer.CompareFiles(f, st); len(fs) > 0 {
			t.Errorf("files read over SSH differ: %v", fs)
		}
		fs := pgbouncer.CompareState(cl, in, f, st)
		if len(fs) != 1 || fs[0].Object != "setting verbose" {
			t.Errorf("state findings %v, want only verbose (which leaks verifiers to the log)", fs)
		}
		noSecrets(t, "the findings", fmt.Sprint(fs))
	})

	t.Run("the pooler's log holds no verifier and no password", func(t *testing.T) {
		log := l.b.Log()
		if !strings.Contains(log, "login attempt: db=app user=dbuser_app") || !strings.Contains(log, "RELOAD command issued") {
			t.Fatalf("the log does not show the logins and reloads (log_connections on):\n%s", log)
		}
		noSecrets(t, "the pooler's log", log, l.appPassword, c.SuperPassword, c.MonitorPassword)
	})
}

func findUser(st *model.PoolerState, name string) *model.PoolerUser {
	for i := range st.Users {
		if st.Users[i].Name == name {
			return &st.Users[i]
		}
	}
	return nil
}

func findDB(st *model.PoolerState, name string) *model.PoolerDatabase {
	for i := range st.Databases {
		if st.Databases[i].Name == name {
			return &st.Databases[i]
		}
	}
	return nil
}

// killPools drops the pooler's server connections to app, so that the
// next client makes it log in to PostgreSQL again.
func killPools(t *testing.T, l *live) {
	t.Helper()
	conn := l.admin(t)
	for _, cmd := range []string{"KILL app", "RESUME app"} {
		if _, err := conn.Exec(t.Context(), cmd, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
}

// mustVerifier hashes a password with a fresh salt.
func mustVerifier(t *testing.T, pw string) string {
	t.Helper()
	v, err := scram.New(pw, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
