package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// sourceFlags are the flags that say where a spec comes from and whom to
// trust: plan, apply and verify share them.
type sourceFlags struct {
	repo, rev, path, branch  string
	sourceName               string
	stateDir, cacheDir, mode string
	allowedSigners           string
	trustedKeys              listFlag
	allowRewind              bool
}

func (f *sourceFlags) register(fs flagSet) {
	fs.StringVar(&f.repo, "repo", ".", "spec repository: a `dir`ectory, a git repository path, or a file://, https:// or ssh:// URL")
	fs.StringVar(&f.rev, "rev", "", "`revision` to use (commit, branch or tag); reads the commit's tree, not the work tree")
	fs.StringVar(&f.path, "path", "", "spec root inside the repository")
	fs.StringVar(&f.branch, "branch", "main", "branch to follow for a remote repository when --rev is not given")
	fs.Var(&f.trustedKeys, "trusted-keys", "armored OpenPGP public key `file` of a trusted signer (repeatable)")
	fs.StringVar(&f.allowedSigners, "allowed-signers", "", "git allowed_signers `file` of trusted SSH signing keys")
	fs.StringVar(&f.mode, "mode", "strict", "history `policy`: strict (every commit since the last applied one is signed) or head")
	fs.StringVar(&f.stateDir, "state-dir", "", "`dir`ectory keeping the last applied commit (enables the history check)")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "`dir`ectory for clones of remote repositories (default: the user cache dir)")
	fs.BoolVar(&f.allowRewind, "allow-rewind", false, "accept a target that does not descend from the last applied commit")
	fs.StringVar(&f.sourceName, "source", "default", "source `name` in --state-dir (the daemon's source name; 'default' for a single-source daemon)")
}

func (f *sourceFlags) trusted() bool { return len(f.trustedKeys) > 0 || f.allowedSigners != "" }

// target is a spec to work on and where it came from.
type target struct {
	fsys    fs.FS
	prov    model.Provenance // the commit, its signer when verified, its author
	snap    *source.Snapshot
	src     *source.Source
	display string // for messages: the directory, or the short commit
}

// resolve finds the spec: a plain directory when no revision and no trust
// are given (the work tree, for editing), otherwise a commit read from the
// repository's objects — verified when trust is configured, before the
// spec is even parsed.
func (f *sourceFlags) resolve(ctx context.Context, e *env, cmd string) (*target, int) {
	if !f.trusted() && f.rev == "" && !source.IsRemote(f.repo) {
		dir := filepath.Join(f.repo, f.path)
		fsys, err := openSpecDir(dir)
		if err != nil {
			return nil, errorf(e, cmd, "%v", err)
		}
		return &target{fsys: fsys, display: dir}, exitOK
	}
	src, err := f.source(e)
	if err != nil {
		return nil, errorf(e, cmd, "%v", err)
	}
	rev := f.rev
	if rev == "" && !source.IsRemote(f.repo) {
		rev = "HEAD"
	}
	snap, err := src.Resolve(ctx, rev)
	var ref *source.Refusal
	switch {
	case errors.As(err, &ref):
		fmt.Fprintf(e.stderr, "reconciler %s: refused: %v\n", cmd, err)
		fmt.Fprintf(e.stderr, "reconciler %s: nothing was read from the spec, nothing was changed\n", cmd)
		return nil, exitFail
	case err != nil:
		return nil, errorf(e, cmd, "%v", err)
	}
	t := &target{fsys: snap.FS, prov: snap.Provenance(), snap: snap, src: src, display: "commit " + model.ShortHash(snap.Commit)}
	if !f.trusted() {
		fmt.Fprintf(e.stderr, "reconciler %s: warning: no trusted keys given: commit %s is NOT verified\n", cmd, model.ShortHash(snap.Commit))
	}
	return t, exitOK
}

func (f *sourceFlags) source(e *env) (*source.Source, error) {
	cfg := source.Config{Name: f.sourceName, URL: f.repo, Path: f.path, StateDir: f.stateDir, AllowRewind: f.allowRewind}
	if source.IsRemote(f.repo) {
		cfg.Branch = f.branch
		cfg.CacheDir = f.cacheDir
		if cfg.CacheDir == "" {
			dir, err := os.UserCacheDir()
			if err != nil {
				return nil, fmt.Errorf("cache directory: %w (use --cache-dir)", err)
			}
			cfg.CacheDir = filepath.Join(dir, "pgreconciler")
		}
	}
	pol, err := source.ParsePolicy(f.mode)
	if err != nil {
		return nil, err
	}
	cfg.Policy = pol
	if f.trusted() {
		trust, err := source.LoadTrust(source.TrustFiles{PGPKeys: f.trustedKeys, AllowedSigners: f.allowedSigners})
		if err != nil {
			return nil, err
		}
		cfg.Trust = trust
	} else {
		cfg.Unverified = true
	}
	return source.New(cfg)
}
