package preflight

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
)

// Options are what a check needs besides the configuration.
type Options struct {
	Now time.Time // the clock keys and certificates are judged at; zero: time.Now()
	UID int       // the user the daemon runs as, for file ownership; 0 is root: set it (os.Geteuid())
}

// Check judges every file cfg names, and warns about keys nothing uses.
// cfg has its defaults (config.Decode or config.Load); its own Problems are
// not repeated here.
func Check(cfg *config.Config, opts Options) config.Problems {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	c := &checker{cfg: cfg, opts: opts}
	c.trust()
	for i := range cfg.Sources {
		c.source(i)
	}
	c.connection("connection", cfg.Connection.Settings, cfg.Connection.Settings)
	for _, name := range sortedKeys(cfg.Connection.Clusters) {
		c.connection("connection.clusters."+name, cfg.Connection.Clusters[name], merged(cfg.Connection.Settings, cfg.Connection.Clusters[name]))
	}
	c.hba()
	return c.problems
}

// checker collects the problems of one check.
type checker struct {
	cfg      *config.Config
	opts     Options
	problems config.Problems
}

func (c *checker) bad(key, format string, args ...any) {
	c.problems = append(c.problems, c.cfg.Problem(key, format, args...))
}

func (c *checker) warn(key, format string, args ...any) {
	c.problems = append(c.problems, c.cfg.Warning(key, format, args...))
}

// badErr reports an error, one problem per line of a joined error.
func (c *checker) badErr(key string, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			c.badErr(key, e)
		}
		return
	}
	c.bad(key, "%v", err)
}

// kind says how a file is protected.
type kind int

const (
	public kind = iota // keys, certificates, known_hosts: anyone may read them
	secret             // passwords, tokens, private keys
)

// read reads the file that key names: a regular file the process can
// read. A secret must not be readable by others, nor by its group unless
// it belongs to another user (root: a Kubernetes Secret volume, 0440 with
// fsGroup) and is not group-writable — libpq's rule for sslkey, and what
// OpenSSH asks of a private key. It reports what is wrong and returns
// false.
func (c *checker) read(key, path string, k kind) ([]byte, bool) {
	st, err := os.Stat(path)
	if err != nil {
		c.bad(key, "%v", err)
		return nil, false
	}
	if !st.Mode().IsRegular() {
		c.bad(key, "%s is not a regular file", path)
		return nil, false
	}
	if k == secret {
		if msg := secretMode(st, c.opts.UID); msg != "" {
			c.bad(key, "%s holds a secret but %s; chmod 600 (or 400) it", path, msg)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.bad(key, "%v", err)
		return nil, false
	}
	return data, true
}

// secretMode says what is wrong with the permissions of a secret file, or
// "".
func secretMode(st fs.FileInfo, uid int) string {
	perm := st.Mode().Perm()
	if perm&0o007 != 0 {
		return fmt.Sprintf("is accessible to every user (mode %04o)", perm)
	}
	if owner, ok := fileOwner(st); ok && owner == uid {
		if perm&0o070 != 0 {
			return fmt.Sprintf("is accessible to its group (mode %04o)", perm)
		}
	} else if perm&0o030 != 0 {
		return fmt.Sprintf("is writable by its group (mode %04o)", perm)
	}
	return ""
}

// token reads a file that holds one secret (a password, an access token,
// a webhook secret) and refuses an empty one.
func (c *checker) token(key, path string) {
	data, ok := c.read(key, path, secret)
	if ok && strings.TrimSpace(string(data)) == "" {
		c.bad(key, "%s is empty", path)
	}
}

// unused warns about a key that is written but that nothing will read.
func (c *checker) unused(key, value, why string) {
	if value != "" && c.cfg.Written(key) {
		c.warn(key, "not used: %s", why)
	}
}
