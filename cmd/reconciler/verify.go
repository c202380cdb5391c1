package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// runVerify checks the signatures of the commits a reconcile would accept
// and prints a verdict per commit.
func runVerify(e *env, args []string) int {
	fs := newFlags(e, "verify", "verify [--repo PATH|URL] [--rev REV] [--trusted-keys FILE]... [--allowed-signers FILE] [--mode strict|head] [--since COMMIT]")
	var f sourceFlags
	f.register(fs)
	since := fs.String("since", "", "check the history from this `commit` (exclusive) instead of the last applied one")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !f.trusted() {
		fmt.Fprintln(e.stderr, "reconciler verify: give the trusted keys: --trusted-keys FILE and/or --allowed-signers FILE")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := f.source(e)
	if err != nil {
		return errorf(e, "verify", "%v", err)
	}
	rev := f.rev
	if rev == "" && !source.IsRemote(f.repo) {
		rev = "HEAD"
	}
	rep, err := src.CheckSince(ctx, rev, *since)
	if err != nil {
		return errorf(e, "verify", "%v", err)
	}
	from := "first contact: only the target is checked"
	if rep.LastApplied != "" {
		from = "since " + model.ShortHash(rep.LastApplied)
	}
	fmt.Fprintf(e.stdout, "target %s, policy %s, %s\n", rep.Target, rep.Policy, from)
	if rep.Rewind {
		fmt.Fprintln(e.stdout, "the target does not descend from the last applied commit (rewind)")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMIT\tAUTHOR\tSIGNER\tKEY\tVERDICT")
	for _, v := range rep.Verdicts {
		who, key := v.Signer.Identity, v.Signer.Fingerprint
		if who == "" {
			who = "-"
		}
		if key == "" {
			key = "-"
		}
		verdict := "ok (" + string(v.Signer.Method) + ")"
		if !v.OK {
			verdict = "REFUSED: " + v.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Commit, v.Author, who, key, verdict)
	}
	if err := tw.Flush(); err != nil {
		return errorf(e, "verify", "%v", err)
	}
	if rep.Refusal != nil {
		fmt.Fprintf(e.stderr, "reconciler verify: refused: %v\n", rep.Refusal)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "accepted: %s\n", rep.Target)
	return exitOK
}
