package preflight

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgpassfile"

	"github.com/pgreconciler/pgreconciler/internal/config"
)

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// connection judges one level of connection settings (the defaults, or a
// cluster's): own is what that level writes, eff what it ends up with
// after the defaults fill in.
func (c *checker) connection(key string, own, eff config.Settings) {
	at := func(k string) string { return key + "." + k }
	if own.SSLMode != "" && !slices.Contains(sslModes, own.SSLMode) {
		c.bad(at("sslmode"), "%q: want one of %s", own.SSLMode, strings.Join(sslModes, ", "))
	}
	if own.Passfile != "" {
		c.passfile(at("passfile"), own.Passfile, eff.User)
	}
	if eff.SSLMode == "disable" {
		why := "sslmode is disable"
		c.unused(at("sslrootcert"), own.SSLRootCert, why)
		c.unused(at("sslcert"), own.SSLCert, why)
		c.unused(at("sslkey"), own.SSLKey, why)
		return
	}
	if own.SSLRootCert != "" && own.SSLRootCert != "system" {
		if data, ok := c.read(at("sslrootcert"), own.SSLRootCert, public); ok {
			c.certificates(at("sslrootcert"), own.SSLRootCert, data)
		}
	}
	if own.SSLCert == "" && own.SSLKey == "" {
		return
	}
	switch {
	case eff.SSLKey == "":
		c.bad(at("sslcert"), "a client certificate needs its key: set sslkey too")
	case eff.SSLCert == "":
		c.bad(at("sslkey"), "a client key needs its certificate: set sslcert too")
	default:
		certKey, keyKey := at("sslcert"), at("sslkey")
		if own.SSLCert == "" {
			certKey = "connection.sslcert"
		}
		if own.SSLKey == "" {
			keyKey = "connection.sslkey"
		}
		cert, ok1 := c.read(certKey, eff.SSLCert, public)
		keyPEM, ok2 := c.read(keyKey, eff.SSLKey, secret)
		if !ok1 || !ok2 || !c.certificates(certKey, eff.SSLCert, cert) {
			return
		}
		if _, err := tls.X509KeyPair(cert, keyPEM); err != nil {
			c.bad(keyKey, "%s is not the unencrypted PEM key of %s: %v", eff.SSLKey, eff.SSLCert, err)
		}
	}
}

// certificates judges a PEM file of certificates: at least one, each one
// parses, not all expired (an expired one is a warning).
func (c *checker) certificates(key, path string, data []byte) bool {
	n, live, broken := 0, 0, 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			c.bad(key, "%s: certificate %d: %v", path, n, err)
			broken++
			continue
		}
		switch {
		case c.opts.Now.After(cert.NotAfter):
			c.warn(key, "%s: certificate %d (%s) expired on %s", path, n, cert.Subject, cert.NotAfter.UTC().Format("2006-01-02"))
		case c.opts.Now.Before(cert.NotBefore):
			c.warn(key, "%s: certificate %d (%s) is not valid before %s", path, n, cert.Subject, cert.NotBefore.UTC().Format("2006-01-02"))
		default:
			live++
		}
	}
	switch {
	case n == 0:
		c.bad(key, "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path)
		return false
	case live == 0 && n > broken:
		c.bad(key, "%s: no certificate in it is valid now", path)
		return false
	case live == 0:
		return false
	}
	return true
}

// passfile judges a libpq password file: a secret (see read), every line
// host:port:database:username:password (as pgx reads it; a line it cannot
// read is skipped by libpq and pgx alike, so it is a mistake), at least
// one entry, and one for user when it is known. A line's content is never
// shown: it holds a password.
func (c *checker) passfile(key, path, user string) {
	data, ok := c.read(key, path, secret)
	if !ok {
		return
	}
	var entries []*pgpassfile.Entry
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		pf, err := pgpassfile.ParsePassfile(strings.NewReader(line))
		if err != nil || len(pf.Entries) == 0 {
			c.bad(key, "%s:%d: not a host:port:database:username:password line (escape ':' and '\\' in a field with '\\')", path, i+1)
			continue
		}
		entries = append(entries, pf.Entries...)
	}
	if len(entries) == 0 {
		c.bad(key, "%s has no host:port:database:username:password line", path)
		return
	}
	if user == "" {
		return
	}
	for _, e := range entries {
		if e.Username == user || e.Username == "*" {
			return
		}
	}
	c.warn(key, "%s has no line for user %s (or *): no password will be found in it", path, user)
}

// merged is what a cluster's settings end up as: its own fields, the
// defaults for the rest.
func merged(base, own config.Settings) config.Settings {
	or := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return config.Settings{User: or(base.User, own.User), Passfile: or(base.Passfile, own.Passfile),
		SSLMode: or(base.SSLMode, own.SSLMode), SSLRootCert: or(base.SSLRootCert, own.SSLRootCert),
		SSLCert: or(base.SSLCert, own.SSLCert), SSLKey: or(base.SSLKey, own.SSLKey)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
