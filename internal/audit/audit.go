package audit

import (
	"context"
	"sync"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Options say what an audit requires and what it traces.
type Options struct {
	Profile Profile
	Limits  Limits
	// Commit and Signer name the spec revision audited (for the report);
	// Head is that revision as the Verifier resolves it.
	Commit, Signer, Head string
	// Since, when not zero, traces the change log from then on (the
	// Collector must read it: Collector.Since).
	Since time.Time
	// Verifier re-verifies the commits change logs name; when nil the
	// chain of custody is unknown, for the reason NoVerifier gives.
	Verifier   CommitVerifier
	NoVerifier string
	// Now is the report's time; default time.Now.
	Now func() time.Time
	// Parallel bounds the instances read at once; default 4.
	Parallel int
}

// Run collects the evidence of every instance of desired, traces the
// change logs and judges every check. It never fails: what cannot be read
// is judged unknown, with why.
func Run(ctx context.Context, desired *model.Desired, col *Collector, opts Options) *Report {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	par := opts.Parallel
	if par <= 0 {
		par = 4
	}
	type job struct {
		c  *model.Cluster
		in *model.Instance
		ev *Evidence
	}
	var jobs []*job
	for _, c := range desired.Clusters {
		for _, in := range c.Instances {
			jobs = append(jobs, &job{c: c, in: in})
		}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			j.ev = col.Collect(ctx, j.c, j.in)
		}()
	}
	wg.Wait()

	var subjects []*Subject
	var custody []*Custody
	until := now()
	for _, c := range desired.Clusters {
		var evs []*Evidence
		for _, j := range jobs {
			if j.c == c {
				evs = append(evs, j.ev)
			}
		}
		var cu *Custody
		if !opts.Since.IsZero() {
			cu = traceCluster(ctx, c, evs, opts, until)
			custody = append(custody, cu)
		}
		for i, in := range c.Instances {
			subjects = append(subjects, &Subject{Cluster: c, Instance: in, Evidence: evs[i], Custody: cu, Limits: opts.Limits})
		}
	}
	return buildReport(subjects, custody, opts, until)
}

// traceCluster builds a cluster's chain of custody from the change log of
// the instance that runs as its primary.
func traceCluster(ctx context.Context, c *model.Cluster, evs []*Evidence, opts Options, until time.Time) *Custody {
	fail := func(why string) *Custody {
		return &Custody{Cluster: c.Name, Since: opts.Since, Until: until, Head: opts.Head, Err: why, Entries: []CustodyEntry{}}
	}
	var primary *Evidence
	for _, e := range evs {
		if e.Err == "" && !e.Session.InRecovery {
			primary = e
			break
		}
	}
	switch {
	case primary == nil:
		return fail("no instance of " + c.Name + " could be read as its primary: its change log is unknown")
	case primary.ChangeLog == nil:
		return fail("the change log of " + primary.Instance + " was not read: " + primary.Unread["change_log"])
	case opts.Verifier == nil:
		return fail("commits cannot be verified: " + opts.NoVerifier)
	}
	cu, err := TraceCustody(ctx, c.Name, opts.Since, until, opts.Head, primary.ChangeLog, opts.Verifier)
	if err != nil {
		return fail(err.Error())
	}
	return cu
}
