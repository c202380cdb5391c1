package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Policy says which commits must carry a trusted signature.
type Policy string

const (
	// PolicyStrict checks every commit on the first-parent chain from the
	// last applied commit (exclusive) to the target (inclusive). With no
	// last applied commit ("first contact") only the target is checked.
	// Second parents of merges are not walked: a signed merge vouches for
	// the branch it merges.
	PolicyStrict Policy = "strict"
	// PolicyHead checks the target only.
	PolicyHead Policy = "head"
)

// ParsePolicy reads a policy name; "" is PolicyStrict.
func ParsePolicy(s string) (Policy, error) {
	switch Policy(s) {
	case "", PolicyStrict:
		return PolicyStrict, nil
	case PolicyHead:
		return PolicyHead, nil
	}
	return "", fmt.Errorf("parse policy %q: want strict or head", s)
}

// DefaultMaxWalk bounds the commits one strict check may verify.
const DefaultMaxWalk = 10_000

// Verdict is the verification result of one commit.
type Verdict struct {
	Commit    string    // full hash
	Author    string    // "Name <email>"
	Committer string    // "Name <email>"
	Time      time.Time // committer time
	Signer    Signer    // the trusted signer; on failure, what is known of the key
	OK        bool
	Reason    string // why not OK; "" when OK
}

func (v Verdict) String() string {
	if v.OK {
		return fmt.Sprintf("%s ok %s", v.Commit, v.Signer)
	}
	return fmt.Sprintf("%s refused %s: %s", v.Commit, v.Signer, v.Reason)
}

// Report is the outcome of checking a target against the policy: the
// verdict of every commit checked and, when the target may not be used,
// the refusal.
type Report struct {
	Target       string // full hash of the target
	LastApplied  string // "" on first contact
	Policy       Policy
	FirstContact bool // no last applied commit: only the target was checked
	Rewind       bool // the target does not descend from LastApplied
	Verdicts     []Verdict
	Refusal      *Refusal // nil when the target may be used
}

// verdict verifies one commit, using the cache of verified commits.
func (s *Source) verdict(c *object.Commit) (Verdict, error) {
	if v, ok := s.cached(c.Hash); ok {
		return v, nil
	}
	var enc plumbing.MemoryObject
	if err := c.EncodeWithoutSignature(&enc); err != nil {
		return Verdict{}, fmt.Errorf("encode commit %s: %w", c.Hash, err)
	}
	rd, err := enc.Reader()
	if err != nil {
		return Verdict{}, fmt.Errorf("encode commit %s: %w", c.Hash, err)
	}
	var payload bytes.Buffer
	if _, err := io.Copy(&payload, rd); err != nil {
		return Verdict{}, fmt.Errorf("encode commit %s: %w", c.Hash, err)
	}
	at := Times{Committed: c.Committer.When, Now: s.now()}
	signer, err := VerifySignature(payload.Bytes(), c.PGPSignature, at, s.cfg.Trust)
	v := Verdict{
		Commit:    c.Hash.String(),
		Author:    person(c.Author),
		Committer: person(c.Committer),
		Time:      c.Committer.When,
		Signer:    signer,
		OK:        err == nil,
	}
	if err != nil {
		v.Reason = err.Error()
	} else {
		s.remember(c.Hash, v)
	}
	return v, nil
}

func person(p object.Signature) string { return p.Name + " <" + p.Email + ">" }

// Floor is evidence, from outside the state directory, that a commit was
// applied: the newest commit recorded in a cluster's change log. Floors are
// inputs of the history policy, like the last applied commit of the state
// directory, and can only make it stricter: the newest of them all, by the
// time it was applied, stands in for the last applied commit.
type Floor struct {
	Commit string    // full hash, as recorded
	At     time.Time // when it was applied, by the recorder's clock
	Origin string    // where it was read, for messages: "the change_log of cluster pg-test on pg-test-1"
}

// lastApplied is the commit a target must descend from, and where it was
// learnt.
type lastApplied struct {
	commit string
	at     time.Time
	origin string // "" for the state directory (or --since)
}

// newestApplied picks, of the state directory's last applied commit and
// the floors, the one applied last. Time, not ancestry, decides: after a
// deliberate rewind the state directory holds an ancestor of what some
// change logs still record, and it is the newer fact.
func newestApplied(st State, floors []Floor) lastApplied {
	last := lastApplied{commit: st.Commit, at: st.AppliedAt}
	for _, f := range floors {
		if f.Commit != "" && (last.commit == "" || f.At.After(last.at)) {
			last = lastApplied{commit: f.Commit, at: f.At, origin: f.Origin}
		}
	}
	return last
}

// String names the commit for messages, with its origin.
func (l lastApplied) String() string {
	if l.origin == "" {
		return "the last applied commit " + l.commit
	}
	return fmt.Sprintf("the last applied commit %s (the newest in %s, applied %s)", l.commit, l.origin, l.at.UTC().Format(time.RFC3339))
}

// evaluate checks target against the policy and the last applied commit
// (commit "" for none). Errors are I/O failures; policy failures are in the
// report's Refusal.
func (s *Source) evaluate(ctx context.Context, repo *git.Repository, target *object.Commit, last lastApplied) (*Report, error) {
	rep := &Report{Target: target.Hash.String(), LastApplied: last.commit, Policy: s.cfg.Policy, FirstContact: last.commit == ""}
	const allow = "accepting a rewind needs an operator: allow_rewind in the source configuration, or --allow-rewind"
	var lastC *object.Commit
	if last.commit != "" && last.commit != rep.Target {
		var c *object.Commit
		err := plumbing.ErrObjectNotFound // a recorded commit that is no hash is not in the repository either
		if validHash(last.commit) {
			c, err = repo.CommitObject(plumbing.NewHash(last.commit))
		}
		switch {
		case errors.Is(err, plumbing.ErrObjectNotFound):
			rep.Rewind = true
			if !s.cfg.AllowRewind {
				rep.Refusal = &Refusal{Commit: rep.Target, Kind: model.RefusalRewind, Reason: fmt.Sprintf(
					"%s is not in the repository, so the target cannot be shown to descend from it (history rewritten?); %s", last, allow)}
			}
		case err != nil:
			return nil, fmt.Errorf("load last applied commit %s: %w", last.commit, err)
		default:
			lastC = c
			desc, err := c.IsAncestor(target)
			if err != nil {
				return nil, fmt.Errorf("check ancestry of %s: %w", rep.Target, err)
			}
			if !desc {
				rep.Rewind = true
				if !s.cfg.AllowRewind {
					rep.Refusal = &Refusal{Commit: rep.Target, Kind: model.RefusalRewind, Reason: fmt.Sprintf(
						"not a descendant of %s (force push, rollback or rewritten history); %s", last, allow)}
				}
			}
		}
	}
	chain := []*object.Commit{target}
	if rep.Refusal == nil && s.cfg.Policy == PolicyStrict && lastC != nil {
		var err error
		if chain, err = s.firstParentChain(ctx, target, lastC); err != nil {
			var r *Refusal
			if !errors.As(err, &r) {
				return nil, err
			}
			rep.Refusal, chain = r, []*object.Commit{target}
		}
	}
	var failed []Verdict
	for _, c := range chain {
		v, err := s.verdict(c)
		if err != nil {
			return nil, err
		}
		rep.Verdicts = append(rep.Verdicts, v)
		if !v.OK {
			failed = append(failed, v)
		}
	}
	if rep.Refusal == nil && len(failed) > 0 {
		rep.Refusal = historyRefusal(rep.Target, failed)
	}
	return rep, nil
}

// historyRefusal names the newest failing commit and counts the others.
func historyRefusal(target string, failed []Verdict) *Refusal {
	first := failed[0]
	reason := first.Reason
	kind := kindOfVerdict(first.Reason)
	if first.Commit != target {
		kind = model.RefusalHistory
		reason = fmt.Sprintf("%s (in the history of target %s, strict policy)", reason, model.ShortHash(target))
	}
	if len(failed) > 1 {
		reason = fmt.Sprintf("%s; %d more commits fail verification", reason, len(failed)-1)
	}
	return &Refusal{Commit: first.Commit, Reason: reason, Kind: kind}
}

// firstParentChain returns the first-parent chain from target (inclusive)
// down to, and excluding, the history the last applied commit already
// covered. Normally the chain meets last itself. When last is reachable from
// target only through a second parent (a branch that merged it and was then
// fast-forwarded), the chain stops at its first commit that is an ancestor
// of last; "is an ancestor of last" only turns from false to true going down
// a first-parent chain, so a binary search finds it. The target is always
// included, even when it is last or an ancestor of it (a permitted rewind).
func (s *Source) firstParentChain(ctx context.Context, target, last *object.Commit) ([]*object.Commit, error) {
	if target.Hash == last.Hash {
		return []*object.Commit{target}, nil
	}
	var chain []*object.Commit
	overflow := false
	for c := target; ; {
		if c.Hash == last.Hash {
			return chain, nil
		}
		if len(chain) == s.maxWalk() {
			overflow = true
			break
		}
		if len(chain)%1000 == 999 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		chain = append(chain, c)
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("walk history of %s: load parent of %s: %w", target.Hash, c.Hash, err)
		}
		c = p
	}
	lo, hi := 0, len(chain) // binary search for the first commit already in last's history
	for lo < hi {
		mid := (lo + hi) / 2
		in, err := chain[mid].IsAncestor(last)
		if err != nil {
			return nil, fmt.Errorf("walk history of %s: %w", target.Hash, err)
		}
		if in {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	i := lo
	if i == len(chain) && overflow {
		return nil, &Refusal{Commit: target.Hash.String(), Kind: model.RefusalHistory, Reason: fmt.Sprintf(
			"more than %d commits on the first-parent chain since the last applied commit %s; raise the walk limit or use the head policy",
			s.maxWalk(), last.Hash)}
	}
	return chain[:max(i, 1)], nil
}
