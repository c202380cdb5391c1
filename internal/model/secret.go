package model

import (
	"log/slog"
	"strings"
)

// Redacted is what every printed form of a Secret shows.
const Redacted = "<redacted>"

// Secret is a password as the spec holds it: plaintext, a SCRAM-SHA-256
// verifier or an md5 hash. Every way of printing it (fmt verbs, %#v, JSON,
// slog) shows Redacted; only Reveal returns the value, and only the code that
// puts it on the wire may call it.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value. Callers must not log or wrap it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret is set (the spec has no opinion).
func (s Secret) IsZero() bool { return s.v == "" }

// Kind tells plaintext from the two hash formats PostgreSQL stores verbatim.
func (s Secret) Kind() SecretKind { return KindOfPassword(s.v) }

func (s Secret) String() string               { return s.redacted() }
func (s Secret) GoString() string             { return s.redacted() }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(s.redacted()) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.redacted() + `"`), nil }
func (s Secret) Equal(o Secret) bool          { return s.v == o.v }
func (s Secret) redacted() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// SecretKind is the form a password value has.
type SecretKind int

const (
	SecretNone      SecretKind = iota // no password
	SecretPlaintext                   // cleartext; must be hashed client-side before it is sent
	SecretSCRAM                       // SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>
	SecretMD5                         // md5 + 32 hex digits
)

func (k SecretKind) String() string {
	switch k {
	case SecretPlaintext:
		return "plaintext"
	case SecretSCRAM:
		return "scram-sha-256"
	case SecretMD5:
		return "md5"
	}
	return "none"
}

// KindOfPassword classifies a password value the way PostgreSQL does when it
// decides whether to store a value verbatim (a precomputed hash) or hash it.
func KindOfPassword(v string) SecretKind {
	switch {
	case v == "":
		return SecretNone
	case strings.HasPrefix(v, "SCRAM-SHA-256$"):
		return SecretSCRAM
	case len(v) == 35 && strings.HasPrefix(v, "md5") && isLowerHex(v[3:]):
		return SecretMD5
	}
	return SecretPlaintext
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
