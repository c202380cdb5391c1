package preflight

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/pgreconciler/pgreconciler/internal/source"
)

// source judges the files of sources[i]: its credentials for the URL's
// scheme, the keys that scheme never reads, and its webhook secret.
func (c *checker) source(i int) {
	s := c.cfg.Sources[i]
	at := func(k string) string { return fmt.Sprintf("sources[%d].%s", i, k) }
	a := s.Auth
	if s.WebhookSecretFile != "" {
		c.token(at("webhook_secret_file"), s.WebhookSecretFile)
	}
	if s.URL == "" {
		return // config.Problems says so
	}
	scheme, hostPort := "local", ""
	if source.IsRemote(s.URL) {
		ep, err := transport.NewEndpoint(s.URL)
		if err != nil {
			return // the source refuses it, with the URL redacted
		}
		scheme = ep.Protocol
		port := ep.Port
		if port == 0 {
			port = 22
		}
		hostPort = net.JoinHostPort(ep.Host, strconv.Itoa(port))
	}
	switch scheme {
	case "https":
		if a.PasswordFile != "" {
			c.token(at("auth.password_file"), a.PasswordFile)
		}
		c.unused(at("auth.ssh_key"), a.SSHKey, "the source URL is https://; an SSH key is used for ssh:// URLs only")
		c.unused(at("auth.known_hosts"), a.KnownHosts, "the source URL is https://; known_hosts is used for ssh:// URLs only")
	case "ssh":
		c.unused(at("auth.password_file"), a.PasswordFile, "the source URL is ssh://; password_file is used for https:// URLs only")
		if a.SSHKey == "" {
			c.bad(at("auth"), "an ssh:// source needs auth.ssh_key (its deploy key)")
		} else {
			c.sshKey(at("auth.ssh_key"), a.SSHKey)
		}
		if a.KnownHosts == "" {
			c.bad(at("auth"), "an ssh:// source needs auth.known_hosts pinning the Git server's host keys (there is no trust on first use)")
		} else {
			c.knownHostsFor(at("auth.known_hosts"), a.KnownHosts, hostPort)
		}
	case "file", "local":
		why := "the source is a local repository, read without credentials"
		c.unused(at("auth.username"), a.Username, why)
		c.unused(at("auth.password_file"), a.PasswordFile, why)
		c.unused(at("auth.ssh_key"), a.SSHKey, why)
		c.unused(at("auth.known_hosts"), a.KnownHosts, why)
		if scheme == "local" {
			c.localRepo(at("url"), s.URL)
		}
	}
}

// localRepo checks that a local source path is a Git repository, with a
// work tree or bare.
func (c *checker) localRepo(key, dir string) {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		c.bad(key, "%v", err)
		return
	case !st.IsDir():
		c.bad(key, "%s is not a directory", dir)
		return
	}
	for _, marker := range []string{".git", "HEAD"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return
		}
	}
	c.bad(key, "%s is not a Git repository (no .git, and not a bare repository)", dir)
}
