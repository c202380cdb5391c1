package preflight

import (
	"errors"
	"strconv"
	"strings"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// sshKey judges a private key for Git over SSH or the HBA writer: it must
// parse and have no passphrase (the configuration has none to give).
func (c *checker) sshKey(key, path string) {
	data, ok := c.read(key, path, secret)
	if !ok {
		return
	}
	_, err := ssh.ParsePrivateKey(data)
	var pass *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &pass):
		c.bad(key, "%s is protected by a passphrase; the reconciler needs a key without one (ssh-keygen -p -N '' -f %s)", path, path)
	case err != nil:
		c.bad(key, "%s is not an SSH private key: %v", path, err)
	}
}

// knownHosts judges a known_hosts file: every line an entry (the library
// the connections use skips a bad line silently, leaving its host
// unpinned), at least one host key. It returns the file as that library
// reads it, its host patterns (hashed and negated ones left out) and
// whether some are hashed; false after reporting a problem.
func (c *checker) knownHosts(key, path string) (db *knownhosts.HostKeyDB, patterns []string, hashed, ok bool) {
	data, ok := c.read(key, path, public)
	if !ok {
		return nil, nil, false, false
	}
	entries, broken := 0, false
	for i, line := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(line); t == "" || t[0] == '#' {
			continue
		}
		marker, hosts, _, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil {
			c.bad(key, "%s:%d: not a known_hosts entry: %v", path, i+1, err)
			broken = true
			continue
		}
		if marker == "revoked" {
			continue
		}
		entries++
		for _, h := range hosts {
			switch {
			case strings.HasPrefix(h, "|"):
				hashed = true
			case !strings.HasPrefix(h, "!"):
				patterns = append(patterns, h)
			}
		}
	}
	if entries == 0 {
		if !broken {
			c.bad(key, "%s pins no host key", path)
		}
		return nil, nil, false, false
	}
	db, err := knownhosts.NewDB(path)
	if err != nil {
		c.bad(key, "%v", err)
		return nil, nil, false, false
	}
	return db, patterns, hashed, !broken
}

// knownHostsFor judges a known_hosts file for one server: it must pin a
// key of host:port, or every connection is refused.
func (c *checker) knownHostsFor(key, path, hostPort string) {
	db, _, _, _ := c.knownHosts(key, path)
	if db != nil && len(db.HostKeyAlgorithms(hostPort)) == 0 {
		c.bad(key, "%s pins no host key for %s, the source URL's server (add it with ssh-keyscan, and check the fingerprint)", path, hostPort)
	}
}

// hba judges the HBA writer: the ssh writer's key and known_hosts, or the
// ssh keys the local writer never reads.
func (c *checker) hba() {
	h := c.cfg.HBA
	if h.Writer != "ssh" {
		why := "hba.writer is " + h.Writer + "; only the ssh writer uses it"
		c.unused("hba.ssh_key", h.SSHKey, why)
		c.unused("hba.known_hosts", h.KnownHosts, why)
		c.unused("hba.ssh_user", h.SSHUser, why)
		if h.SSHPort != 0 {
			c.unused("hba.ssh_port", strconv.Itoa(h.SSHPort), why)
		}
		return
	}
	if h.SSHKey != "" {
		c.sshKey("hba.ssh_key", h.SSHKey)
	}
	if h.KnownHosts == "" {
		return // config.Problems says so
	}
	// The database hosts come from the specs, which are not known yet;
	// but a file without one entry for the port can pin none of them.
	_, patterns, hashed, ok := c.knownHosts("hba.known_hosts", h.KnownHosts)
	if !ok || hashed {
		return
	}
	for _, p := range patterns {
		if patternPort(p) == h.SSHPort {
			return
		}
	}
	form := "[host]:" + strconv.Itoa(h.SSHPort)
	if h.SSHPort == 22 {
		form = "a bare host"
	}
	c.bad("hba.known_hosts", "%s pins no host on port %d (hba.ssh_port): entries for it are written %s", h.KnownHosts, h.SSHPort, form)
}

// patternPort is the port a known_hosts host pattern is for: "[h]:p" is
// for p, anything else for 22.
func patternPort(p string) int {
	if strings.HasPrefix(p, "[") {
		if i := strings.LastIndex(p, "]:"); i > 0 {
			if n, err := strconv.Atoi(p[i+2:]); err == nil {
				return n
			}
		}
	}
	return 22
}
