package source

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

func TestCloneAndFetchFromBareRemote(t *testing.T) {
	f := newTree(t)
	bare := gitenv.NewBare(t)
	f.repo.Run("remote", "add", "origin", bare.URL())
	f.repo.WriteFile("clusters/a.yml", "v1\n")
	c1 := f.repo.Commit("one", f.key)
	f.repo.Push("origin", "main")

	cache := t.TempDir()
	s, err := New(Config{Name: "remote", URL: bare.URL(), CacheDir: cache, StateDir: t.TempDir(), Trust: f.trust, Path: "clusters"})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Resolve(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Commit != c1 {
		t.Fatalf("commit %s, want %s", snap.Commit, c1)
	}
	if err := s.MarkApplied(snap); err != nil {
		t.Fatal(err)
	}
	dir := cachePath(cache, "remote", bare.URL())
	if r, err := git.PlainOpen(dir); err != nil {
		t.Fatalf("no cache repository at %s: %v", dir, err)
	} else if cfg, _ := r.Config(); !cfg.Core.IsBare {
		t.Error("cache repository is not bare")
	}

	f.repo.WriteFile("clusters/a.yml", "v2\n")
	c2 := f.repo.Commit("two", f.key)
	f.repo.Push("origin", "main")
	snap, err = s.Resolve(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := fs.ReadFile(snap.FS, "a.yml"); snap.Commit != c2 || string(b) != "v2\n" {
		t.Fatalf("after fetch: commit %s content %q, want %s v2", snap.Commit, b, c2)
	}
	if err := s.MarkApplied(snap); err != nil {
		t.Fatal(err)
	}

	// A force push back to c1 on the remote is fetched and refused.
	bare.UpdateRef("refs/heads/main", c1)
	_, err = s.Resolve(context.Background(), "")
	var r *Refusal
	if !errors.As(err, &r) || r.Commit != c1 || !strings.Contains(r.Reason, "not a descendant") {
		t.Fatalf("after force push: err = %v, want a rewind refusal", err)
	}
}

func TestFetchFailureIsNotAnEmptyTree(t *testing.T) {
	f := newTree(t)
	empty := gitenv.NewBare(t)
	for name, url := range map[string]string{
		"missing": "file://" + filepath.Join(t.TempDir(), "no-such-repo.git"),
		"empty":   empty.URL(),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := New(Config{Name: "remote", URL: url, CacheDir: t.TempDir(), Trust: f.trust})
			if err != nil {
				t.Fatal(err)
			}
			snap, err := s.Resolve(context.Background(), "")
			if err == nil || snap != nil {
				t.Fatalf("Resolve = %v, %v; want an error", snap, err)
			}
			if errors.As(err, new(*Refusal)) {
				t.Errorf("a fetch failure is not a refusal: %v", err)
			}
			if !strings.Contains(err.Error(), "fetch "+url) {
				t.Errorf("error %q should name the fetch and URL", err)
			}
		})
	}
}

func TestFollowedBranchMissingIsAnError(t *testing.T) {
	f := newTree(t)
	f.repo.Commit("one", f.key)
	s := newLocal(t, f.repo, f.trust, func(c *Config) { c.Branch = "production" })
	if _, err := s.Resolve(context.Background(), ""); err == nil || errors.As(err, new(*Refusal)) ||
		!strings.Contains(err.Error(), "refs/heads/production") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseLocation(t *testing.T) {
	for raw, want := range map[string]string{
		"file:///srv/specs.git":         "file",
		"https://git.example.com/x.git": "https",
		"ssh://git@git.example.com/x":   "ssh",
		"git@git.example.com:ops/x.git": "ssh",
		"/srv/specs":                    "local",
		"relative/specs":                "local",
	} {
		loc, err := parseLocation(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		got := "local"
		if loc.endpoint != nil {
			got = loc.endpoint.Protocol
		}
		if got != want {
			t.Errorf("%s: %s, want %s", raw, got, want)
		}
	}
	for _, raw := range []string{"http://git.example.com/x.git", "git://git.example.com/x", ""} {
		if _, err := parseLocation(raw); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
	// A password in the URL would be stored in the cache repository's
	// config: refused, and neither message shows it.
	for _, raw := range []string{"https://bot:s3cret@git.example.com/x.git", "https://bot:s3cret@git.example.com:bad/x.git"} {
		_, err := parseLocation(raw)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v: a URL with a password must be refused without showing it", err)
		}
	}
	loc, err := parseLocation("https://bot@git.example.com/x.git")
	if err != nil || loc.display != "https://bot@git.example.com/x.git" {
		t.Errorf("a user name alone is fine: %q, %v", loc.display, err)
	}
}

func TestSSHAuthPinsHostKeys(t *testing.T) {
	client := gitenv.NewSSHSigner(t, "ed25519", "reconciler")
	host := gitenv.NewSSHSigner(t, "ed25519", "host")
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, "[git.example.com]:2222 "+host.PublicKey()+"\n")
	loc, err := parseLocation("ssh://git@git.example.com:2222/ops/specs.git")
	if err != nil {
		t.Fatal(err)
	}

	auth, err := Auth{SSHKeyFile: client.KeyFile, KnownHostsFile: known}.authMethod(loc.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	pk, ok := auth.(*gitssh.PublicKeys)
	if !ok || pk.User != "git" || pk.HostKeyCallback == nil {
		t.Fatalf("auth %#v", auth)
	}
	if got := pk.HostKeyAlgorithms; len(got) != 1 || got[0] != "ssh-ed25519" {
		t.Errorf("host key algorithms %v, want only the pinned key's", got)
	}

	for name, a := range map[string]Auth{
		"no known_hosts": {SSHKeyFile: client.KeyFile},
		"no key":         {KnownHostsFile: known},
		"host not pinned": {SSHKeyFile: client.KeyFile, KnownHostsFile: func() string {
			p := filepath.Join(t.TempDir(), "known_hosts")
			writeFile(t, p, "other.example.com "+host.PublicKey()+"\n")
			return p
		}()},
	} {
		if _, err := a.authMethod(loc.endpoint); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHTTPSAuthKeepsSecretsOutOfText(t *testing.T) {
	loc, err := parseLocation("https://git.example.com/x.git")
	if err != nil {
		t.Fatal(err)
	}
	a := Auth{Password: model.NewSecret("tok3n")}
	m, err := a.authMethod(loc.endpoint)
	if err != nil || m == nil {
		t.Fatalf("auth %v, %v", m, err)
	}
	if strings.Contains(m.String(), "tok3n") {
		t.Errorf("auth prints its token: %s", m)
	}
}
