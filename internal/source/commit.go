package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// ErrCommitNotFound is the error of VerifyCommit for a hash the repository
// does not hold (or a string that is no hash).
var ErrCommitNotFound = errors.New("commit not in the repository")

// CommitCheck is one commit judged again: its verdict against the trusted
// keys now, and its parents (first parent first), for an audit that asks
// whether a merge had a second signer.
type CommitCheck struct {
	Verdict Verdict
	Parents []string // full hashes
}

// VerifyCommit verifies the commit with full hash h against the source's
// trusted keys, as the history check does (same times, same cache of
// commits verified OK), without fetching: call it after Resolve or Check,
// which fetch. A source configured Unverified returns a verdict that is not
// OK ("no trusted keys configured"). ErrCommitNotFound says the repository
// does not hold h; other errors are failures to read it.
func (s *Source) VerifyCommit(ctx context.Context, h string) (CommitCheck, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return CommitCheck{}, err
	}
	if !validHash(h) {
		return CommitCheck{}, fmt.Errorf("verify commit %q: %w", h, ErrCommitNotFound)
	}
	repo, err := s.openCached()
	if err != nil {
		return CommitCheck{}, err
	}
	c, err := repo.CommitObject(plumbing.NewHash(h))
	switch {
	case errors.Is(err, plumbing.ErrObjectNotFound):
		return CommitCheck{}, fmt.Errorf("verify commit %s: %w", h, ErrCommitNotFound)
	case err != nil:
		return CommitCheck{}, fmt.Errorf("verify commit %s: %w", h, err)
	}
	var cc CommitCheck
	for _, p := range c.ParentHashes {
		cc.Parents = append(cc.Parents, p.String())
	}
	if s.cfg.Unverified {
		cc.Verdict = Verdict{Commit: c.Hash.String(), Author: person(c.Author), Committer: person(c.Committer),
			Time: c.Committer.When, Reason: "not verified: no trusted keys configured"}
		return cc, nil
	}
	if cc.Verdict, err = s.verdict(c); err != nil {
		return CommitCheck{}, err
	}
	return cc, nil
}

// Contains reports whether commit h is head or one of its ancestors: the
// change it carries is in the history of head. head is a revision as
// Resolve takes it ("" for the followed branch or tag). It does not fetch.
func (s *Source) Contains(ctx context.Context, head, h string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !validHash(h) {
		return false, nil
	}
	repo, err := s.openCached()
	if err != nil {
		return false, err
	}
	top, err := resolveRev(repo, head, s.follow)
	if err != nil {
		return false, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(h))
	switch {
	case errors.Is(err, plumbing.ErrObjectNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("load commit %s: %w", h, err)
	}
	if c.Hash == top.Hash {
		return true, nil
	}
	in, err := c.IsAncestor(top)
	if err != nil {
		return false, fmt.Errorf("check ancestry of %s: %w", h, err)
	}
	return in, nil
}
