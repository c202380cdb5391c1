package source

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// resolveRev finds the commit rev names. "" means the followed ref;
// "HEAD" is the repository's HEAD; otherwise rev is a full ref name
// (refs/…), a branch, a tag (annotated
// tags are peeled to their commit) or a full or abbreviated (4+ digits)
// commit hash. A rev that names two different commits is an error.
func resolveRev(repo *git.Repository, rev string, follow plumbing.ReferenceName) (*object.Commit, error) {
	if rev == "" {
		h, err := refCommit(repo, follow)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", follow, err)
		}
		return repo.CommitObject(h)
	}
	if rev == "HEAD" {
		h, err := repo.Head()
		if err != nil {
			return nil, fmt.Errorf("resolve HEAD: %w", err)
		}
		return repo.CommitObject(h.Hash())
	}
	var names []plumbing.ReferenceName
	if strings.HasPrefix(rev, "refs/") {
		names = []plumbing.ReferenceName{plumbing.ReferenceName(rev)}
	} else {
		names = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(rev), plumbing.NewTagReferenceName(rev)}
	}
	found := map[plumbing.Hash]string{}
	for _, n := range names {
		h, err := refCommit(repo, n)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", rev, err)
		}
		found[h] = n.String()
	}
	hashes, err := commitsWithPrefix(repo, rev)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", rev, err)
	}
	for _, h := range hashes {
		found[h] = "commit " + h.String()
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("resolve %q: no branch, tag or commit of that name", rev)
	case 1:
		for h := range found {
			return repo.CommitObject(h)
		}
	}
	var what []string
	for _, w := range found {
		what = append(what, w)
	}
	return nil, fmt.Errorf("resolve %q: ambiguous, it names %s", rev, strings.Join(what, ", "))
}

// refCommit returns the commit a reference points at, peeling annotated
// tags (and chains of them).
func refCommit(repo *git.Repository, name plumbing.ReferenceName) (plumbing.Hash, error) {
	ref, err := repo.Reference(name, true)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	h := ref.Hash()
	for range 10 {
		tag, err := repo.TagObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return h, nil // not a tag object: the caller loads it as a commit
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if tag.TargetType != plumbing.TagObject && tag.TargetType != plumbing.CommitObject {
			return plumbing.ZeroHash, fmt.Errorf("tag %s points at a %s, not a commit", name.Short(), tag.TargetType)
		}
		h = tag.Target
	}
	return plumbing.ZeroHash, fmt.Errorf("tag %s: too many nested tags", name.Short())
}

// commitsWithPrefix returns the commits whose hash starts with the hex
// string prefix; nothing when prefix is not 4 to 40 hex digits.
func commitsWithPrefix(repo *git.Repository, prefix string) ([]plumbing.Hash, error) {
	prefix = strings.ToLower(prefix)
	if len(prefix) < 4 || len(prefix) > 40 || !isHex(prefix) {
		return nil, nil
	}
	if len(prefix) == 40 {
		h := plumbing.NewHash(prefix)
		if _, err := repo.CommitObject(h); err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				return nil, nil
			}
			return nil, err
		}
		return []plumbing.Hash{h}, nil
	}
	var candidates []plumbing.Hash
	type prefixer interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	if p, ok := repo.Storer.(prefixer); ok {
		b, _ := hex.DecodeString(prefix[:len(prefix)&^1])
		hs, err := p.HashesWithPrefix(b)
		if err != nil {
			return nil, err
		}
		candidates = hs
	} else {
		iter, err := repo.CommitObjects()
		if err != nil {
			return nil, err
		}
		err = iter.ForEach(func(c *object.Commit) error {
			candidates = append(candidates, c.Hash)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []plumbing.Hash
	for _, h := range candidates {
		if !strings.HasPrefix(h.String(), prefix) {
			continue
		}
		if _, err := repo.CommitObject(h); err == nil {
			out = append(out, h)
		}
	}
	return out, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
