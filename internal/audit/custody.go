package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/source"
)

// CommitVerifier re-verifies commits of the spec repository today
// (*source.Source does, with the configured trusted keys).
type CommitVerifier interface {
	// VerifyCommit returns the commit's verdict and parents, or an error
	// wrapping source.ErrCommitNotFound.
	VerifyCommit(ctx context.Context, hash string) (source.CommitCheck, error)
	// Contains reports whether hash is in the history of the revision head.
	Contains(ctx context.Context, head, hash string) (bool, error)
}

// Finding is what is wrong with a change-log row.
type Finding string

const (
	// FindingNoCommit: the row names no commit (an apply from a work tree,
	// or a row written by hand): the change cannot be traced to a review.
	FindingNoCommit Finding = "no commit"
	// FindingMissing: the repository has no such commit (a forged row, or
	// history rewritten after the change).
	FindingMissing Finding = "commit missing"
	// FindingUnsigned: the commit carries no signature.
	FindingUnsigned Finding = "unsigned"
	// FindingUntrusted: the signature does not verify against the trusted
	// keys today (unknown or revoked key, bad signature …).
	FindingUntrusted Finding = "untrusted"
	// FindingSignerMismatch: the row names a signer other than the one whose
	// key signed the commit.
	FindingSignerMismatch Finding = "signer mismatch"
	// FindingNotInHistory: a signed commit that never reached the audited
	// branch (applied from a side branch: not merged, not reviewed there).
	FindingNotInHistory Finding = "not in history"
	// FindingOutOfBand: an observed row — an object changed on the server
	// outside the reconciler.
	FindingOutOfBand Finding = "out of band"
	// FindingUnsettled: an intent row (status interrupted) the reconciler
	// could not settle from the catalog: the run that made the change ended
	// before it recorded the outcome, and the change may or may not have
	// taken effect.
	FindingUnsettled Finding = "unsettled"
)

// CustodyEntry is one change-log row and what the repository says of it.
type CustodyEntry struct {
	Row ChangeRow `json:"row"`
	// Signer is who signed the row's commit, verified today ("" when the
	// commit does not verify).
	Signer string `json:"signer,omitempty"`
	// Reviewed is set for a change whose commit is a reviewed merge (see
	// Custody); BranchSigner then signed the merged branch's tip.
	Reviewed     bool    `json:"reviewed"`
	BranchSigner string  `json:"branch_signer,omitempty"`
	Finding      Finding `json:"finding,omitempty"`
	Detail       string  `json:"detail,omitempty"`
}

// SignerCount is how many changes one signer's commits made.
type SignerCount struct {
	Signer  string `json:"signer"`
	Changes int    `json:"changes"`
}

// CustodySummary counts a period's change log.
type CustodySummary struct {
	Changes   int           `json:"changes"`  // applied rows
	Attempts  int           `json:"attempts"` // failed, refused, pending or interrupted rows
	Reviewed  int           `json:"reviewed"` // applied rows from a reviewed merge
	OutOfBand int           `json:"out_of_band"`
	Findings  int           `json:"findings"`
	BySigner  []SignerCount `json:"by_signer"` // applied rows by the verified signer of their commit, most first
}

// Custody is the chain of custody of one cluster for a period: every row
// of its change log matched to its commit in the spec repository, that
// commit's signature verified again today.
//
// A change counts as reviewed when its commit is a merge (two or more
// parents) whose own signature verifies against the trusted keys and
// whose second parent — the tip of the branch it merged — carries a
// trusted signature by a different key: two people, each holding a
// trusted key, vouched for it (whoever wrote the branch, whoever merged
// it). A fast-forward or squash merge leaves a single-parent commit and
// is not counted as reviewed; a forge's own merge signature counts only
// when the operator trusts the forge's key.
type Custody struct {
	Cluster string         `json:"cluster"`
	Since   time.Time      `json:"since"`
	Until   time.Time      `json:"until"`
	Head    string         `json:"head"` // the audited revision
	Err     string         `json:"error,omitempty"`
	Entries []CustodyEntry `json:"entries"`
	Summary CustodySummary `json:"summary"`
}

// commitFacts is what the repository says of one commit.
type commitFacts struct {
	missing      bool
	check        source.CommitCheck
	inHistory    bool
	reviewed     bool
	branchSigner string
}

// TraceCustody matches rows (the cluster's change log of the period) to
// their commits with cv and counts them. head is the audited revision
// (Contains' head). An error is a failure to read the repository.
func TraceCustody(ctx context.Context, cluster string, since, until time.Time, head string, rows []ChangeRow, cv CommitVerifier) (*Custody, error) {
	c := &Custody{Cluster: cluster, Since: since, Until: until, Head: head, Entries: []CustodyEntry{}}
	facts := map[string]*commitFacts{}
	bySigner := map[string]int{}
	for _, r := range rows {
		e := CustodyEntry{Row: r}
		switch {
		case r.Status == "observed":
			c.Summary.OutOfBand++
			e.Finding, e.Detail = FindingOutOfBand, "changed outside the reconciler"
			if r.What != "" {
				e.Detail += ": " + r.What
			}
		case r.Commit == "":
			e.Finding, e.Detail = FindingNoCommit, "no commit recorded: applied from a work tree, or written by hand"
		default:
			f, err := commitOf(ctx, cv, head, r.Commit, facts)
			if err != nil {
				return nil, err
			}
			judgeRow(&e, f)
		}
		switch {
		case r.Status == "interrupted" && e.Finding == "":
			e.Finding, e.Detail = FindingUnsettled, "the run that made it ended before it recorded the outcome; it may or may not have taken effect"
		case r.Status == "pending" && e.Finding == "":
			e.Detail = "outcome not recorded yet: an apply in progress, or a run that ended, which the next run settles"
		}
		if r.Status == "applied" {
			c.Summary.Changes++
			if e.Reviewed {
				c.Summary.Reviewed++
			}
			signer := e.Signer
			if signer == "" {
				signer = "(not verified)"
			}
			bySigner[signer]++
		} else if r.Status == "failed" || r.Status == "refused" || r.Status == "pending" || r.Status == "interrupted" {
			c.Summary.Attempts++
		}
		if e.Finding != "" {
			c.Summary.Findings++
		}
		c.Entries = append(c.Entries, e)
	}
	for s, n := range bySigner {
		c.Summary.BySigner = append(c.Summary.BySigner, SignerCount{Signer: s, Changes: n})
	}
	sort.Slice(c.Summary.BySigner, func(i, j int) bool {
		a, b := c.Summary.BySigner[i], c.Summary.BySigner[j]
		return a.Changes > b.Changes || a.Changes == b.Changes && a.Signer < b.Signer
	})
	return c, nil
}

// judgeRow sets the entry's signer, review and finding from its commit.
func judgeRow(e *CustodyEntry, f *commitFacts) {
	v := f.check.Verdict
	switch {
	case f.missing:
		e.Finding, e.Detail = FindingMissing, "the spec repository has no commit "+e.Row.Commit
		return
	case !v.OK && v.Reason == source.ErrUnsigned.Error():
		e.Finding, e.Detail = FindingUnsigned, "commit "+short(e.Row.Commit)+" carries no signature"
		return
	case !v.OK:
		e.Finding, e.Detail = FindingUntrusted, "commit "+short(e.Row.Commit)+": "+v.Reason
		return
	}
	e.Signer = v.Signer.String()
	e.Reviewed, e.BranchSigner = f.reviewed, f.branchSigner
	switch rec := e.Row.Signer; {
	case rec != "" && rec != "-" && !strings.Contains(rec, v.Signer.Fingerprint):
		e.Finding, e.Detail = FindingSignerMismatch, fmt.Sprintf("the row names %q, the commit is signed by %s", rec, e.Signer)
	case !f.inHistory:
		e.Finding, e.Detail = FindingNotInHistory, "commit "+short(e.Row.Commit)+" is not in the history of the audited revision"
	}
}

// commitOf verifies a commit once per trace.
func commitOf(ctx context.Context, cv CommitVerifier, head, h string, facts map[string]*commitFacts) (*commitFacts, error) {
	if f, ok := facts[h]; ok {
		return f, nil
	}
	f := &commitFacts{}
	facts[h] = f
	cc, err := cv.VerifyCommit(ctx, h)
	switch {
	case errors.Is(err, source.ErrCommitNotFound):
		f.missing = true
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("trace change log: %w", err)
	}
	f.check = cc
	if !cc.Verdict.OK {
		return f, nil
	}
	if f.inHistory, err = cv.Contains(ctx, head, h); err != nil {
		return nil, fmt.Errorf("trace change log: %w", err)
	}
	if len(cc.Parents) >= 2 {
		bc, err := cv.VerifyCommit(ctx, cc.Parents[1])
		if err != nil && !errors.Is(err, source.ErrCommitNotFound) {
			return nil, fmt.Errorf("trace change log: %w", err)
		}
		if err == nil {
			if bc.Verdict.OK && bc.Verdict.Signer.Fingerprint != cc.Verdict.Signer.Fingerprint {
				f.reviewed, f.branchSigner = true, bc.Verdict.Signer.String()
			}
		}
	}
	return f, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
