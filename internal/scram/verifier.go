package scram

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PostgreSQL's defaults for a new verifier (scram_sha_256_iterations and
// SCRAM_DEFAULT_SALT_LEN).
const (
	DefaultIterations = 4096
	DefaultSaltLen    = 16
)

const prefix = "SCRAM-SHA-256$"

// ErrMalformed is wrapped by every Parse error. Parse errors name the part
// that is wrong, never the input.
var ErrMalformed = errors.New("malformed scram-sha-256 verifier")

// Verifier is a SCRAM-SHA-256 verifier as PostgreSQL stores it in
// pg_authid.rolpassword:
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
type Verifier struct {
	Iterations int
	Salt       []byte
	StoredKey  [sha256.Size]byte
	ServerKey  [sha256.Size]byte
}

// String returns the verifier in PostgreSQL's stored format. It holds no
// password, but it is still a credential: whoever has it can pose as the
// server, and with one sniffed exchange as the client.
func (v Verifier) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return prefix + strconv.Itoa(v.Iterations) + ":" + b64(v.Salt) +
		"$" + b64(v.StoredKey[:]) + ":" + b64(v.ServerKey[:])
}

// Parse reads a verifier in the exact form PostgreSQL writes: standard
// base64 with padding and nothing else (no line breaks, no spare bits),
// a decimal iteration count in 1..2147483647 without sign or leading zero,
// a non-empty salt and 32-byte keys. So String(Parse(s)) == s.
func Parse(s string) (Verifier, error) {
	var v Verifier
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return v, fmt.Errorf("%w: missing %q prefix", ErrMalformed, prefix)
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return v, fmt.Errorf("%w: missing '$' between parameters and keys", ErrMalformed)
	}
	iter, salt, ok := strings.Cut(params, ":")
	if !ok {
		return v, fmt.Errorf("%w: missing ':' between iteration count and salt", ErrMalformed)
	}
	stored, server, ok := strings.Cut(keys, ":")
	if !ok {
		return v, fmt.Errorf("%w: missing ':' between stored key and server key", ErrMalformed)
	}
	n, err := parseIterations(iter)
	if err != nil {
		return v, err
	}
	v.Iterations = n
	if v.Salt, err = decode(salt, "salt"); err != nil {
		return v, err
	}
	if len(v.Salt) == 0 {
		return v, fmt.Errorf("%w: empty salt", ErrMalformed)
	}
	if err := decodeKey(stored, "stored key", &v.StoredKey); err != nil {
		return v, err
	}
	if err := decodeKey(server, "server key", &v.ServerKey); err != nil {
		return v, err
	}
	return v, nil
}

func parseIterations(s string) (int, error) {
	if s == "" || s[0] == '0' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: iteration count is not a positive decimal integer", ErrMalformed)
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: iteration count out of range", ErrMalformed)
	}
	return int(n), nil
}

// decode accepts only the canonical standard base64 of some bytes: the
// encoder's exact output, so line breaks and non-zero padding bits fail.
func decode(s, what string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("%w: %s is not canonical base64", ErrMalformed, what)
	}
	return b, nil
}

func decodeKey(s, what string, dst *[sha256.Size]byte) error {
	b, err := decode(s, what)
	if err != nil {
		return err
	}
	if len(b) != sha256.Size {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, what, len(b), sha256.Size)
	}
	copy(dst[:], b)
	return nil
}
