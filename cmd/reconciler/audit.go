package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/audit"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// auditFlags are audit's own flags; where the spec comes from is
// sourceFlags, as for plan.
type auditFlags struct {
	sourceFlags
	clusters listFlag
	profile  string
	format   string
	since    string
	out      string
	patroni  patroniFlags
}

func runAudit(e *env, args []string) int {
	fs := newFlags(e, "audit", "audit [--repo DIR|URL] [--rev REV] [--since DATE] [--profile baseline|strict|none] [--format html|markdown|json] [--out FILE] [--patroni [--patroni-ca-file FILE]]")
	var f auditFlags
	f.sourceFlags.register(fs)
	fs.Var(&f.clusters, "cluster", "only this cluster `name` (repeatable; default: every cluster)")
	fs.StringVar(&f.profile, "profile", "baseline", "the checks that must pass: baseline (what Pigsty's defaults meet), strict (every control) or none")
	fs.StringVar(&f.format, "format", "html", "report `format`: html, markdown or json")
	fs.StringVar(&f.since, "since", "", "trace the change log from `DATE` on (2025-01-01, an RFC 3339 time, or an age: 90d, 12h); needs trusted keys")
	fs.StringVar(&f.out, "out", "", "write the report to `file` (default: standard output)")
	fs.BoolVar(&f.patroni.enabled, "patroni", false, "judge Patroni on the clusters it manages (patroni_mode not remove) from each member's REST API: failover, REST authentication and allowlist, https; without it those checks are unknown")
	fs.StringVar(&f.patroni.caFile, "patroni-ca-file", "", "CA `file` verifying the REST API when patroni_ssl_enabled (Pigsty: /pg/cert/ca.crt)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !oneOf(e.stderr, "profile", f.profile, "baseline", "strict", "none") || !oneOf(e.stderr, "format", f.format, "html", "markdown", "json") {
		return exitUsage
	}
	profile, err := audit.ParseProfile(f.profile)
	if err != nil {
		return usagef(e, "audit", "%v", err)
	}
	var since time.Time
	if f.since != "" {
		if since, err = parseSince(f.since, time.Now()); err != nil {
			return usagef(e, "audit", "%v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The spec is validated against the schema only: an audit reports on
	// a fleet whatever its spec's policy violations.
	pf := planFlags{sourceFlags: f.sourceFlags, clusters: f.clusters, profile: "none", format: "text"}
	fl, code := pf.loadFleet(ctx, e, "audit")
	if fl == nil {
		return code
	}
	fl.close() // the audit reads on sessions of its own
	dialer := dbconn.New(dbconn.Settings{}, nil).WithCommit(fl.target.prov.Commit)
	col := &audit.Collector{Connect: dialer.Connect, Since: since,
		Pooler: audit.PoolerFrom(func(ctx context.Context, in *model.Instance) (*pgx.Conn, error) {
			return dialer.ConnectConsole(ctx, in, in.Pooler.Port)
		}, nil)}
	if f.patroni.enabled {
		col.Patroni = audit.PatroniFrom(audit.PatroniAccess{CAFile: f.patroni.caFile})
	}
	if file := os.Getenv("PGSSLROOTCERT"); file != "" && file != "system" {
		roots, err := audit.LoadRoots(file)
		if err != nil {
			return errorf(e, "audit", "PGSSLROOTCERT: %v", err)
		}
		col.Roots, col.RootsName = roots, file
	}
	opts := audit.Options{Profile: profile, Commit: fl.target.prov.Commit, Signer: fl.target.prov.Signer, Head: fl.target.prov.Commit, Since: since}
	switch {
	case fl.target.src == nil:
		opts.NoVerifier = "the spec was read from a directory, not from a commit of a repository (give --rev, or trusted keys)"
	case !f.trusted():
		opts.NoVerifier = "no trusted keys were given (--trusted-keys, --allowed-signers)"
	default:
		opts.Verifier = fl.target.src
	}
	rep := audit.Run(ctx, fl.desired, col, opts)
	if err := writeReport(e, rep, f.format, f.out); err != nil {
		return errorf(e, "audit", "%v", err)
	}
	unreachable := 0
	for _, in := range rep.Instances {
		if in.Err != "" {
			fmt.Fprintf(e.stderr, "reconciler audit: %s: %s\n", in.Instance, in.Err)
			unreachable++
		}
	}
	switch {
	case unreachable > 0:
		return errorf(e, "audit", "%d instance(s) could not be read: their controls are unknown", unreachable)
	case rep.Failed:
		fmt.Fprintf(e.stderr, "reconciler audit: a check that profile %s requires fails\n", profile)
		return exitDrift
	}
	return exitOK
}

// writeReport writes the report to out, whole or not at all (a temporary
// file renamed into place), or to standard output.
func writeReport(e *env, rep *audit.Report, format, out string) error {
	var b bytes.Buffer
	var err error
	switch format {
	case "markdown":
		err = rep.WriteMarkdown(&b)
	case "json":
		err = rep.WriteJSON(&b)
	default:
		err = rep.WriteHTML(&b)
	}
	if err != nil {
		return err
	}
	if out == "" {
		_, err := e.stdout.Write(b.Bytes())
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(e.stderr, "reconciler audit: wrote %s\n", out)
	return nil
}

var ageRE = regexp.MustCompile(`^([0-9]+)d$`)

// parseSince reads --since: a date (midnight UTC), an RFC 3339 time, or an
// age before now (90d, 36h).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if m := ageRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n <= 100_000 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a date (2025-01-01), an RFC 3339 time (2025-01-01T08:00:00Z) or an age (90d, 12h)", s)
}
