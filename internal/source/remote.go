package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Auth is how the reconciler authenticates to a remote repository.
type Auth struct {
	// Username is the HTTPS basic-auth user ("git" when only Password is
	// set) or the SSH user (default: the URL's user, else "git").
	Username string
	// Password is an HTTPS password or access token, sent as basic auth.
	Password model.Secret
	// BearerToken is an HTTPS bearer token, used when Password is empty.
	BearerToken model.Secret
	// SSHKeyFile is the private key for ssh:// URLs.
	SSHKeyFile       string
	SSHKeyPassphrase model.Secret
	// KnownHostsFile pins the SSH server's host keys; required for ssh://.
	// Only its keys are accepted, and the host key algorithms offered to
	// the server are exactly theirs. There is no trust on first use.
	KnownHostsFile string
}

// location is where the repository lives: a local path opened in place, or
// a remote endpoint fetched into a bare cache repository.
type location struct {
	local    string // absolute path, for a local repository
	endpoint *transport.Endpoint
	display  string // the URL without credentials, for messages
}

// parseLocation accepts a local path, or a file://, https:// or ssh:// URL
// (scp-like user@host:path counts as ssh).
func parseLocation(raw string) (location, error) {
	if raw == "" {
		return location{}, errors.New("parse source URL: empty")
	}
	if !IsRemote(raw) {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return location{}, fmt.Errorf("parse source path: %w", err)
		}
		return location{local: abs, display: abs}, nil
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		// The parser's message quotes the URL, password and all.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return location{}, fmt.Errorf("parse source URL %s: %w", redactUserinfo(raw), err)
	}
	switch ep.Protocol {
	case "file", "https", "ssh":
	default:
		return location{}, fmt.Errorf("parse source URL: unsupported scheme %q (use file://, https:// or ssh://)", ep.Protocol)
	}
	if ep.Password != "" {
		// It would be written to the cache repository's config and shown
		// by every tool that prints the remote.
		return location{}, fmt.Errorf("source URL %s carries a password: put it in auth.password_file", redactURL(raw))
	}
	return location{endpoint: ep, display: redactURL(raw)}, nil
}

// redactUserinfo hides what stands between "://" and the last "@" of the
// authority, for a URL too broken for url.Parse.
func redactUserinfo(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return raw
	}
	return raw[:i+3] + "xxxxx" + rest[at:]
}

// IsRemote reports whether a source URL names a remote repository
// (fetched into a cache) rather than a local directory: what parseLocation
// decides, for callers that only need to know which.
func IsRemote(raw string) bool {
	return strings.Contains(raw, "://") || isSCPLike(raw)
}

// isSCPLike reports whether raw looks like user@host:path.
func isSCPLike(raw string) bool {
	colon := strings.IndexByte(raw, ':')
	slash := strings.IndexByte(raw, '/')
	return colon > 0 && (slash < 0 || colon < slash) && strings.Contains(raw[:colon], "@")
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// authMethod builds the go-git auth for the endpoint. For ssh it pins the
// host keys of KnownHostsFile and offers only their algorithms, so a
// server that also has a key of another type cannot cause a false
// "key mismatch" and nobody is tempted to turn checking off.
func (a Auth) authMethod(ep *transport.Endpoint) (transport.AuthMethod, error) {
	switch ep.Protocol {
	case "https":
		switch {
		case !a.Password.IsZero():
			user := a.Username
			if user == "" {
				user = "git"
			}
			return &githttp.BasicAuth{Username: user, Password: a.Password.Reveal()}, nil
		case !a.BearerToken.IsZero():
			return &githttp.TokenAuth{Token: a.BearerToken.Reveal()}, nil
		}
		return nil, nil
	case "ssh":
		return a.sshAuth(ep)
	}
	return nil, nil
}

func (a Auth) sshAuth(ep *transport.Endpoint) (transport.AuthMethod, error) {
	if a.KnownHostsFile == "" {
		return nil, errors.New("configure ssh auth: a known_hosts file with the server's pinned host keys is required")
	}
	if a.SSHKeyFile == "" {
		return nil, errors.New("configure ssh auth: an SSH private key file is required")
	}
	db, err := knownhosts.NewDB(a.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("configure ssh auth: %w", err)
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	hostPort := net.JoinHostPort(ep.Host, strconv.Itoa(port))
	algos := db.HostKeyAlgorithms(hostPort)
	if len(algos) == 0 {
		return nil, fmt.Errorf("configure ssh auth: no pinned host key for %s in %s", hostPort, a.KnownHostsFile)
	}
	user := a.Username
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeysFromFile(user, a.SSHKeyFile, a.SSHKeyPassphrase.Reveal())
	if err != nil {
		return nil, fmt.Errorf("configure ssh auth: read key %s: %w", a.SSHKeyFile, err)
	}
	keys.HostKeyCallbackHelper = gitssh.HostKeyCallbackHelper{
		HostKeyCallback:   db.HostKeyCallback(),
		HostKeyAlgorithms: algos,
	}
	return keys, nil
}

// cachePath is the bare cache repository of a source: named after the
// source, with a digest of the URL so a changed URL gets a fresh cache.
func cachePath(cacheDir, name, rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return filepath.Join(cacheDir, fmt.Sprintf("%s-%x.git", name, sum[:6]))
}

// fetchRefSpecs mirror the remote's branches and tags, forced, so a force
// push is seen (and then judged by the ancestry check) rather than hidden.
func fetchRefSpecs() []config.RefSpec {
	return []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}
}

// fetch brings the bare cache repository at dir up to date with the remote,
// creating it on first use. Any failure is an error: an unreachable, empty
// or broken remote never looks like an empty tree.
func fetch(ctx context.Context, dir string, loc location, auth transport.AuthMethod) (*git.Repository, error) {
	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// A directory left by an interrupted first fetch is ours to replace.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("create cache %s: %w", dir, err)
		}
		repo, err = git.PlainInit(dir, true)
	}
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	if _, err := repo.Remote("origin"); errors.Is(err, git.ErrRemoteNotFound) {
		_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{loc.endpoint.String()}, Fetch: fetchRefSpecs()})
		if err != nil {
			return nil, fmt.Errorf("configure cache %s: %w", dir, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   fetchRefSpecs(),
		Auth:       auth,
		Tags:       git.NoTags,
		Prune:      true,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch %s: %w", loc.display, err)
	}
	return repo, nil
}
