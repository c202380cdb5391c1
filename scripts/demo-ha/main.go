// Command demo-ha is `make demo-ha`: the reconciler following a Patroni
// switchover. It starts a throwaway etcd and two Patroni-managed
// PostgreSQL 15 members on loopback (internal/testenv/patronienv), writes
// a Pigsty inventory whose pg_role is the one the cluster was installed
// with, and runs the built reconciler with --patroni: a plan and an apply
// on the leader, a `patronictl switchover`, then a plan that finds the new
// leader and an apply that lands there. Every step checks its outcome: the
// demo exits 1 naming the step that did not happen. It never touches a
// real cluster, and removes everything it started when it ends.
//
// What it must not import: pgreconciler's production packages; it drives
// the reconciler binary the way a user does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

func main() { os.Exit(run()) }

func run() int {
	bin := flag.String("bin", "bin/reconciler", "the reconciler binary")
	dir := flag.String("dir", ".demo-ha", "working directory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo(ctx, *bin, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo-ha:", err)
		return 1
	}
	return 0
}

const users = `pg_default_privileges: []
pg_users: [{name: "dbuser_app", password: "App.Secret.2026"}%s]`

func demo(ctx context.Context, bin, dir string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	say("Starting etcd and two Patroni members (PostgreSQL 15) on 127.0.0.141-142 …\n")
	begin := time.Now()
	pc, err := patronienv.Start(patronienv.Options{Name: "pg-ha", Members: 2, BaseIP: 141})
	if err != nil {
		return err
	}
	defer func() {
		if err := pc.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "demo-ha: stop the cluster:", err)
		} else {
			say("Stopped Patroni, PostgreSQL and etcd.\n")
		}
	}()
	first, second := pc.Members()[0], pc.Members()[1]
	say("Started in %s: %s leads, %s replicates. The inventory says %s is the primary.\n\n",
		time.Since(begin).Round(time.Second), first.Name(), second.Name(), first.Name())
	env := append(os.Environ(), "PGUSER="+pc.SuperUser, "PGPASSWORD="+pc.SuperPassword,
		"PGSSLMODE=verify-full", "PGSSLROOTCERT="+pc.CACertFile)
	write := func(extra string) error {
		return os.WriteFile(filepath.Join(repo, "fleet.cue"), []byte(pc.PigstySpec(fmt.Sprintf(users, extra))), 0o644)
	}
	reconciler := func(want int, args ...string) (string, error) {
		args = append(args, "--repo", repo, "--patroni")
		say("$ reconciler %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			return "", err
		}
		say("%s→ exit %d\n\n", indent(string(out)), code)
		if code != want {
			return string(out), fmt.Errorf("reconciler %s exited %d, want %d", args[0], code, want)
		}
		return string(out), nil
	}
	expect := func(out, step string, wants ...string) error {
		for _, w := range wants {
			if !strings.Contains(out, w) {
				return fmt.Errorf("%s: the output lacks %q", step, w)
			}
		}
		return nil
	}

	if err := write(""); err != nil {
		return err
	}
	out, err := reconciler(2, "plan", "--detailed-exitcode")
	if err != nil {
		return err
	}
	if err := expect(out, "the first plan", "+ role dbuser_app"); err != nil {
		return err
	}
	if _, err := reconciler(0, "apply"); err != nil {
		return err
	}

	say("$ patronictl switchover %s --leader %s --candidate %s --force\n", pc.Name, first.Name(), second.Name())
	if _, err := pc.Switchover(ctx, second); err != nil {
		return err
	}
	say("    %s leads now; the inventory still says %s is the primary.\n\n", second.Name(), first.Name())

	if err := write(`, {name: "dbuser_report", password: "Report.Secret.2026"}`); err != nil {
		return err
	}
	say("A new user in the spec; the plan finds the new leader without a word from Git about it:\n")
	out, err = reconciler(2, "plan", "--detailed-exitcode")
	if err != nil {
		return err
	}
	if err := expect(out, "the plan after the switchover", second.Name()+" (leader, pg_role replica",
		first.Name()+" (replica, pg_role primary", "* topology inventory_role", "+ role dbuser_report"); err != nil {
		return err
	}
	if _, err := reconciler(0, "apply"); err != nil {
		return err
	}
	conn, err := second.Admin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pgreconciler.change_log WHERE kind = 'role' AND object = 'dbuser_report' AND status = 'applied'").Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("the change log on the new leader %s has %d rows for dbuser_report, want 1", second.Name(), n)
	}
	say("dbuser_report was created on %s, the new leader, and its change-log row is there.\n", second.Name())
	say("Update pg_role in the inventory to clear the inventory_role reports.\n\n")
	return nil
}

func say(format string, args ...any) { fmt.Printf(format, args...) }

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
