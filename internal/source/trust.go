package source

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// Trust is the set of keys allowed to sign commits: OpenPGP public keys and
// the lines of a git allowed_signers file. It comes from files named in the
// reconciler's configuration, never from the repository being verified.
// Build it once (LoadTrust, or NewTrust and the Add methods) before any
// verification; a built Trust is read-only and safe for concurrent use.
type Trust struct {
	pgp openpgp.EntityList
	ssh []allowedSigner
}

// TrustFiles names the files a Trust is loaded from.
type TrustFiles struct {
	PGPKeys        []string // files of armored OpenPGP public keys
	AllowedSigners string   // a git allowed_signers file (gpg.ssh.allowedSignersFile)
	// Location is the zone of allowed_signers times written without a Z
	// suffix; nil means time.Local, the zone ssh-keygen would use.
	Location *time.Location
}

// NewTrust returns an empty Trust.
func NewTrust() *Trust { return &Trust{} }

// LoadTrust reads the files and refuses a configuration that trusts no key.
func LoadTrust(files TrustFiles) (*Trust, error) {
	t := NewTrust()
	for _, name := range files.PGPKeys {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("load trust: %w", err)
		}
		if err := t.AddPGPKeys(name, b); err != nil {
			return nil, fmt.Errorf("load trust: %w", err)
		}
	}
	if files.AllowedSigners != "" {
		b, err := os.ReadFile(files.AllowedSigners)
		if err != nil {
			return nil, fmt.Errorf("load trust: %w", err)
		}
		if err := t.AddAllowedSigners(files.AllowedSigners, b, files.Location); err != nil {
			return nil, fmt.Errorf("load trust: %w", err)
		}
	}
	if t.Empty() {
		return nil, errors.New("load trust: no trusted key in the configured files")
	}
	return t, nil
}

// AddPGPKeys adds the armored public keys in data; name is used in errors.
func (t *Trust) AddPGPKeys(name string, data []byte) error {
	keys, err := parsePGPKeys(name, data)
	if err != nil {
		return err
	}
	t.pgp = append(t.pgp, keys...)
	return nil
}

// AddAllowedSigners adds the lines of an allowed_signers file; name is used
// in errors (as name:line). loc is the zone of times without a Z suffix
// (nil: time.Local).
func (t *Trust) AddAllowedSigners(name string, data []byte, loc *time.Location) error {
	if loc == nil {
		loc = time.Local
	}
	lines, err := parseAllowedSigners(name, data, loc)
	if err != nil {
		return err
	}
	t.ssh = append(t.ssh, lines...)
	return nil
}

// Empty reports whether no key is trusted.
func (t *Trust) Empty() bool { return t == nil || len(t.pgp) == 0 && len(t.ssh) == 0 }

// Unusable describes the trusted keys that cannot verify a commit made at
// now — OpenPGP keys with no signing key valid then (expired, revoked),
// allowed_signers lines outside their valid-after/valid-before window —
// and counts the keys that can. A configuration check uses it: a trust
// whose every key is unusable accepts no new commit.
func (t *Trust) Unusable(now time.Time) (unusable []string, usable int) {
	for _, e := range t.pgp {
		fpr := pgpFingerprint(e.PrimaryKey.Fingerprint)
		switch _, ok := e.SigningKey(now); {
		case ok:
			usable++
		case e.Revoked(now):
			unusable = append(unusable, "OpenPGP key "+fpr+" is revoked")
		default:
			unusable = append(unusable, "OpenPGP key "+fpr+" has no signing key valid at "+now.UTC().Format(time.RFC3339)+" (expired, or no signing subkey)")
		}
	}
	for _, a := range t.ssh {
		switch {
		case !a.validUntil.IsZero() && now.After(a.validUntil):
			unusable = append(unusable, a.pos+": key expired at valid-before "+stamp(a.validUntil))
		case !a.validAfter.IsZero() && now.Before(a.validAfter):
			unusable = append(unusable, a.pos+": key is not valid before valid-after "+stamp(a.validAfter))
		default:
			usable++
		}
	}
	return unusable, usable
}
