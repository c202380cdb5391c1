package source

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Config describes one source: where the spec repository is, what to
// follow, whom to trust and how strictly.
type Config struct {
	// Name names the source in the state and cache directories: letters,
	// digits, '.', '_' and '-'.
	Name string
	// URL is a local repository path (opened in place, work tree ignored)
	// or a file://, https:// or ssh:// URL (fetched into CacheDir).
	URL string
	// Branch is the branch to follow; Tag a tag to follow instead. With
	// neither, the branch is "main".
	Branch, Tag string
	// Path is the spec root inside the repository; "" is the top.
	Path string
	// CacheDir holds bare clones of remote sources. Required for URLs; one
	// process at a time may use a cache directory.
	CacheDir string
	// StateDir holds the last applied commit per source. "" keeps no state,
	// so every check is a first contact.
	StateDir string
	Auth     Auth
	// Trust is the set of keys allowed to sign; required and not empty
	// unless Unverified is set.
	Trust *Trust
	// Unverified reads commits without checking signatures or history: for
	// `plan`/`apply --rev` when no trust is configured. Snapshots then have
	// no Signer and their report says "not verified". Never set it for the
	// daemon.
	Unverified bool
	// Policy is strict ("" too) or head.
	Policy Policy
	// AllowRewind accepts a target that does not descend from the last
	// applied commit (rollback, force push, rewritten history).
	AllowRewind bool
	Limits      Limits
	// MaxWalk bounds the commits a strict check verifies; default 10,000.
	MaxWalk int
	// Now is the wall clock for OpenPGP key expiry; default time.Now.
	Now func() time.Time
	// Logger gets debug lines about fetches and checks; default: discard.
	Logger *slog.Logger
}

// Source hands out verified commits of one spec repository. Its methods
// may be called from several goroutines; they run one at a time.
type Source struct {
	cfg    Config
	loc    location
	auth   transport.AuthMethod
	follow plumbing.ReferenceName
	root   string
	log    *slog.Logger

	mu       sync.Mutex                // serialises Check and Resolve; guards verified
	verified map[plumbing.Hash]Verdict // commits verified OK in this process
}

// maxCached bounds the cache of verified commits; it is emptied when full.
const maxCached = 100_000

// Snapshot is a verified commit and its spec tree.
type Snapshot struct {
	Source    string
	Commit    string // full hash
	Author    string // "Name <email>"
	Committer string // "Name <email>"
	Time      time.Time
	Message   string
	Signer    Signer
	// FS is the spec root of the commit (Config.Path), read from the
	// commit's objects into memory; it is a *SpecFS.
	FS     fs.FS
	Report *Report // the checks that admitted the commit
}

// Provenance is what the change log records of the snapshot's commit. An
// unverified snapshot (Config.Unverified) has no signer.
func (s *Snapshot) Provenance() model.Provenance {
	p := model.Provenance{Commit: s.Commit, Author: s.Author}
	if s.Signer.Method != "" {
		p.Signer = s.Signer.String()
	}
	return p
}

// New checks cfg and prepares the source. It reads the SSH key and
// known_hosts files of an ssh:// source, but does not touch the repository.
func New(cfg Config) (*Source, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, fmt.Errorf("configure source: %w", err)
	}
	if cfg.Trust.Empty() && !cfg.Unverified {
		return nil, fmt.Errorf("configure source %s: no trusted keys", cfg.Name)
	}
	pol, err := ParsePolicy(string(cfg.Policy))
	if err != nil {
		return nil, fmt.Errorf("configure source %s: %w", cfg.Name, err)
	}
	cfg.Policy = pol
	s := &Source{cfg: cfg, log: cfg.Logger, verified: map[plumbing.Hash]Verdict{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Branch != "" && cfg.Tag != "":
		return nil, fmt.Errorf("configure source %s: follow a branch or a tag, not both", cfg.Name)
	case cfg.Tag != "":
		s.follow = plumbing.NewTagReferenceName(cfg.Tag)
	case cfg.Branch != "":
		s.follow = plumbing.NewBranchReferenceName(cfg.Branch)
	default:
		s.follow = plumbing.NewBranchReferenceName("main")
	}
	if s.root, err = cleanRoot(cfg.Path); err != nil {
		return nil, fmt.Errorf("configure source %s: %w", cfg.Name, err)
	}
	if s.loc, err = parseLocation(cfg.URL); err != nil {
		return nil, fmt.Errorf("configure source %s: %w", cfg.Name, err)
	}
	if s.loc.endpoint != nil {
		if cfg.CacheDir == "" {
			return nil, fmt.Errorf("configure source %s: a cache directory is required for %s", cfg.Name, s.loc.display)
		}
		if s.auth, err = cfg.Auth.authMethod(s.loc.endpoint); err != nil {
			return nil, fmt.Errorf("configure source %s: %w", cfg.Name, err)
		}
	}
	return s, nil
}

// cleanRoot turns the configured spec path into "" (the top) or a clean
// slash-separated path that stays inside the repository.
func cleanRoot(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" || p == "." {
		return "", nil
	}
	c := path.Clean(p)
	if !fs.ValidPath(c) || c == "." {
		return "", fmt.Errorf("spec path %q leaves the repository", p)
	}
	return c, nil
}

// Name is the source's name.
func (s *Source) Name() string { return s.cfg.Name }

// Check fetches (remote sources), resolves rev ("" = the followed branch or
// tag) and checks it against the policy and the last applied commit in the
// state directory. It returns the verdicts even when the target is refused
// (Report.Refusal); the error is for failures to fetch, read or resolve.
// It is what `reconciler verify` prints.
func (s *Source) Check(ctx context.Context, rev string) (*Report, error) {
	return s.CheckSince(ctx, rev, "")
}

// CheckSince is Check with since (a commit) standing in for the last
// applied commit of the state directory: `reconciler verify --since`.
func (s *Source) CheckSince(ctx context.Context, rev, since string) (*Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	rep, _, err := s.check(ctx, repo, rev, since, nil)
	return rep, err
}

// Recheck checks commit (a full hash Resolve or Check returned) again,
// without fetching, with floors — commits known to have been applied, from
// the clusters' change logs — as more candidates for the last applied
// commit: the newest of the state directory's commit and the floors, by
// the time it was applied, is the one the target must descend from (a
// floor that is not in the repository refuses the target, never makes it a
// first contact). Report.Refusal says when the commit may not be used.
func (s *Source) Recheck(ctx context.Context, commit string, floors []Floor) (*Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, err := s.openCached()
	if err != nil {
		return nil, err
	}
	rep, _, err := s.check(ctx, repo, commit, "", floors)
	return rep, err
}

// Resolve is Check that also reads the spec tree: it returns the snapshot
// of a target the policy admits, a *Refusal for one it does not (bad
// signature, history, or tree), or another error when the repository could
// not be fetched or read (worth a retry). The spec tree is read only after
// the commit is verified.
func (s *Source) Resolve(ctx context.Context, rev string) (*Snapshot, error) {
	return s.ResolveWith(ctx, rev, nil)
}

// ResolveWith is Resolve with a hook: before, when not nil, is called with
// the full hash of a target that passed the checks, before its spec tree
// is read; an error it returns ends ResolveWith and is returned as is. The
// daemon uses it to skip commits it has judged before, and to record the
// commit it is about to evaluate.
func (s *Source) ResolveWith(ctx context.Context, rev string, before func(commit string) error) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	rep, target, err := s.check(ctx, repo, rev, "", nil)
	if err != nil {
		return nil, err
	}
	if rep.Refusal != nil {
		return nil, rep.Refusal
	}
	if before != nil {
		if err := before(rep.Target); err != nil {
			return nil, err
		}
	}
	tree, err := readTree(repo.Storer, target, s.root, s.cfg.Limits)
	if err != nil {
		return nil, err
	}
	s.log.Debug("resolved source", "source", s.cfg.Name, "commit", rep.Target, "signer", rep.Verdicts[0].Signer.Fingerprint)
	return &Snapshot{
		Source:    s.cfg.Name,
		Commit:    rep.Target,
		Author:    person(target.Author),
		Committer: person(target.Committer),
		Time:      target.Committer.When,
		Message:   target.Message,
		Signer:    rep.Verdicts[0].Signer,
		FS:        tree,
		Report:    rep,
	}, nil
}

// MarkApplied records snap as the last applied commit of the source. Call
// it only after the snapshot was applied successfully.
func (s *Source) MarkApplied(snap *Snapshot) error {
	if s.cfg.StateDir == "" {
		return fmt.Errorf("mark %s applied: source %s has no state directory", model.ShortHash(snap.Commit), s.cfg.Name)
	}
	return SaveState(s.cfg.StateDir, State{Source: s.cfg.Name, Commit: snap.Commit,
		Signer: snap.Signer.Fingerprint, AppliedAt: s.now().UTC()})
}

// check resolves rev in repo and checks it against the policy and the last
// applied commit: since when given, else the newest of the state
// directory's and the floors.
func (s *Source) check(ctx context.Context, repo *git.Repository, rev, since string, floors []Floor) (*Report, *object.Commit, error) {
	target, err := resolveRev(repo, rev, s.follow)
	if err != nil {
		return nil, nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	var last lastApplied
	if since != "" {
		c, err := resolveRev(repo, since, s.follow)
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: --since: %w", s.cfg.Name, err)
		}
		last.commit = c.Hash.String()
	} else {
		var st State
		if s.cfg.StateDir != "" {
			if st, err = LoadState(s.cfg.StateDir, s.cfg.Name); err != nil {
				return nil, nil, err
			}
		}
		last = newestApplied(st, floors)
	}
	var rep *Report
	if s.cfg.Unverified {
		rep = &Report{Target: target.Hash.String(), LastApplied: last.commit, Policy: "none", Verdicts: []Verdict{{
			Commit: target.Hash.String(), Author: person(target.Author), Committer: person(target.Committer),
			Time: target.Committer.When, OK: true, Reason: "not verified: no trusted keys configured"}}}
	} else {
		rep, err = s.evaluate(ctx, repo, target, last)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	s.log.Debug("checked source", "source", s.cfg.Name, "target", rep.Target, "last_applied", last.commit,
		"policy", string(rep.Policy), "commits", len(rep.Verdicts), "refused", rep.Refusal != nil)
	return rep, target, nil
}

// open returns the repository: a local one opened afresh (so new packs and
// refs are seen), or the cache after a fetch.
func (s *Source) open(ctx context.Context) (*git.Repository, error) {
	if s.loc.endpoint == nil {
		return s.openCached()
	}
	repo, err := fetch(ctx, cachePath(s.cfg.CacheDir, s.cfg.Name, s.cfg.URL), s.loc, s.auth)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.cfg.Name, err)
	}
	s.log.Debug("fetched source", "source", s.cfg.Name, "url", s.loc.display)
	return repo, nil
}

// openCached returns the repository as the last open left it: a local one
// opened afresh, or the cache without a fetch.
func (s *Source) openCached() (*git.Repository, error) {
	dir := s.loc.local
	if s.loc.endpoint != nil {
		dir = cachePath(s.cfg.CacheDir, s.cfg.Name, s.cfg.URL)
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("open source %s at %s: %w", s.cfg.Name, s.loc.display, err)
	}
	return repo, nil
}

func (s *Source) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Source) maxWalk() int {
	if s.cfg.MaxWalk > 0 {
		return s.cfg.MaxWalk
	}
	return DefaultMaxWalk
}

func (s *Source) cached(h plumbing.Hash) (Verdict, bool) {
	v, ok := s.verified[h]
	return v, ok
}

func (s *Source) remember(h plumbing.Hash, v Verdict) {
	if len(s.verified) >= maxCached {
		clear(s.verified)
	}
	s.verified[h] = v
}
