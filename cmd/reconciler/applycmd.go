package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// runApply plans every chosen cluster and executes the plan.
func runApply(e *env, args []string) int {
	fs := newFlags(e, "apply", "apply [--repo DIR|URL] [--rev REV] [--cluster NAME]... [--dry-run] [--hba-writer local|ssh]")
	var f planFlags
	f.register(fs)
	dryRun := fs.Bool("dry-run", false, "print the plan and what would run; change nothing")
	hbaWriter := fs.String("hba-writer", "local", "how pg_hba.conf is written: local (this host) or ssh")
	sshUser := fs.String("ssh-user", "postgres", "ssh writer: login user")
	sshKey := fs.String("ssh-key", "", "ssh writer: private key `file`")
	knownHosts := fs.String("known-hosts", "", "ssh writer: known_hosts `file` pinning the hosts' keys (no trust on first use)")
	sshPort := fs.Int("ssh-port", 22, "ssh writer: port")
	logFormat := fs.String("log-format", "text", "log format of the per-change lines on stderr: text or json")
	maxAge := fs.String("change-log-max-age", "365d", "delete change-log rows older than `age` (365d, 720h, off)")
	maxRows := fs.Int64("change-log-max-rows", 0, "keep at most `n` change-log rows, the newest (0: no limit)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	// One line per change on each stream: batched (batchWriter), and
	// flushed in order, stderr's before stdout's.
	stdout, stderr := newBatchWriter(e.stdout, outputDelay), newBatchWriter(e.stderr, outputDelay)
	defer func() {
		_ = stderr.Flush()
		_ = stdout.Flush()
	}()
	e = &env{stdin: e.stdin, stdout: stdout, stderr: stderr}
	age, err := config.ParseAge(*maxAge)
	if err != nil || *maxRows < 0 {
		fmt.Fprintf(e.stderr, "reconciler apply: --change-log-max-age %q, --change-log-max-rows %d: want an age (365d, 720h, off) and a count ≥ 0\n", *maxAge, *maxRows)
		return exitUsage
	}
	if !oneOf(e.stderr, "hba-writer", *hbaWriter, "local", "ssh") || !oneOf(e.stderr, "log-format", *logFormat, "text", "json") {
		return exitUsage
	}
	var writer apply.HBAWriter = apply.NewLocalWriter()
	if *hbaWriter == "ssh" {
		w, err := apply.NewSSHWriter(apply.SSHConfig{User: *sshUser, KeyFile: *sshKey, KnownHostsFile: *knownHosts, Port: *sshPort})
		if err != nil {
			return errorf(e, "apply", "%v", err)
		}
		writer = w
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fl, code := f.loadFleet(ctx, e, "apply")
	if fl == nil {
		return code
	}
	if fl.target.prov.Commit == "" && !*dryRun {
		fmt.Fprintf(e.stderr, "reconciler apply: warning: applying the work tree of %s, not a verified commit; the change log records no commit or signer (use --rev with --allowed-signers/--trusted-keys)\n", fl.target.display)
	}
	// Each cluster as the daemon reconciles it: the apply lock held from
	// before the inspection to the end of the apply, so that the plan
	// cannot go stale under another reconciler. A cluster whose lock is
	// taken (busy), or whose instances cannot be inspected, is reported
	// once, in the plan.
	mode := reconcile.ModeApply
	if *dryRun {
		mode = reconcile.ModeDryRun
	}
	opts := reconcile.Options{Mode: mode, HBA: writer, Logger: newLogger(e, *logFormat),
		Retention: apply.Retention{MaxAge: age.D(), MaxRows: *maxRows}}
	if f.pgbouncer {
		opts.PgBouncer = writer
	}
	outcomes := fl.reconcile(ctx, opts)
	_ = stderr.Flush() // the per-change lines come before the plan
	if err := writePlan(e, fl.planOf(outcomes), f.format); err != nil {
		return errorf(e, "apply", "%v", err)
	}
	if *dryRun {
		fmt.Fprintln(e.stdout, "\nDry run: nothing was changed.")
		return boolExit(failed(outcomes))
	}
	var n struct{ applied, failed, refused, pending int }
	fmt.Fprintln(e.stdout)
	applied := true // every cluster counts the commit as applied
	for _, r := range outcomes {
		applied = applied && r.CommitApplied()
		if r.Err != nil {
			fmt.Fprintf(e.stdout, "cluster %s: error: %v\n", r.Cluster, r.Err)
		}
		if r.Result == nil {
			continue
		}
		for _, o := range r.Result.Outcomes {
			ch := o.Change
			line := fmt.Sprintf("%s %s %s", ch.Action.Symbol(), ch.Kind, ch.Object)
			switch o.Status {
			case plan.StatusApplied:
				n.applied++
				extra := ""
				if o.Pending {
					n.pending++
					extra = " (written; live after a restart)"
				}
				fmt.Fprintf(e.stdout, "applied  %s: %s%s\n", ch.Instance, line, extra)
			case plan.StatusFailed:
				n.failed++
				fmt.Fprintf(e.stdout, "FAILED   %s: %s: %s%s\n", ch.Instance, line, o.Error, sqlstate(o.SQLState))
			case plan.StatusRefused:
				n.refused++
				fmt.Fprintf(e.stdout, "REFUSED  %s: %s: %s\n", ch.Instance, line, o.Error)
			}
		}
	}
	fmt.Fprintf(e.stdout, "\nApply: %d applied, %d failed, %d refused; %d waiting for a restart.\n", n.applied, n.failed, n.refused, n.pending)
	// Only an apply to every cluster of the commit makes it the last
	// applied one: after --cluster, the others have not converged to it.
	if applied && len(f.clusters) == 0 && fl.target.src != nil && f.stateDir != "" && f.trusted() {
		if err := fl.target.src.MarkApplied(fl.target.snap); err != nil {
			return errorf(e, "apply", "record the last applied commit: %v", err)
		}
	}
	return boolExit(failed(outcomes))
}

// outputDelay is how late an apply's per-change lines may reach a
// person watching.
const outputDelay = 100 * time.Millisecond

func sqlstate(s string) string {
	if s == "" {
		return ""
	}
	return " (SQLSTATE " + s + ")"
}

func boolExit(failed bool) int {
	if failed {
		return exitFail
	}
	return exitOK
}
