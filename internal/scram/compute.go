package scram

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// MaxMatchIterations bounds the iteration count Matches will spend on a
// stored verifier, so a hostile or absurd rolpassword cannot stall a
// reconcile cycle. PostgreSQL writes 4096 unless scram_iterations (PG16+)
// says otherwise.
const MaxMatchIterations = 1 << 20

var (
	errEmptyPassword = errors.New("compute scram-sha-256 verifier: empty password")
	errNULPassword   = errors.New("compute scram-sha-256 verifier: password contains a NUL byte")
	errEmptySalt     = errors.New("compute scram-sha-256 verifier: empty salt")
	errIterations    = errors.New("compute scram-sha-256 verifier: iteration count out of range")
	errTooCostly     = errors.New("match scram-sha-256 verifier: iteration count above MaxMatchIterations")
)

// Compute returns the verifier PostgreSQL would store for password with the
// given salt and iteration count (pg_be_scram_build_secret): the password
// is prepared with SASLprep, or used as raw bytes when SASLprep rejects it.
//
// PostgreSQL cannot hold an empty password or one with a NUL byte, so
// Compute refuses both.
func Compute(password string, salt []byte, iterations int) (string, error) {
	v, err := compute(password, salt, iterations)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// New returns a verifier for password with a fresh salt of DefaultSaltLen
// bytes read from rand and DefaultIterations, as PostgreSQL makes one for
// ALTER ROLE … PASSWORD 'plaintext'. Setting the result with ALTER ROLE
// stores it byte for byte, so the plaintext never reaches the server.
func New(password string, rand io.Reader) (string, error) {
	salt := make([]byte, DefaultSaltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	return Compute(password, salt, DefaultIterations)
}

// Matches reports whether stored is the verifier of password: it recomputes
// the keys with the stored salt and iteration count and compares them in
// constant time. It fails on a malformed verifier, and on one whose
// iteration count exceeds MaxMatchIterations.
func Matches(password, stored string) (bool, error) {
	want, err := Parse(stored)
	if err != nil {
		return false, err
	}
	if want.Iterations > MaxMatchIterations {
		return false, errTooCostly
	}
	got, err := compute(password, want.Salt, want.Iterations)
	if err != nil {
		return false, err
	}
	same := subtle.ConstantTimeCompare(got.StoredKey[:], want.StoredKey[:]) &
		subtle.ConstantTimeCompare(got.ServerKey[:], want.ServerKey[:])
	return same == 1, nil
}

// compute follows RFC 5802 §3: SaltedPassword = PBKDF2-HMAC-SHA-256,
// StoredKey = H(HMAC(SaltedPassword, "Client Key")),
// ServerKey = HMAC(SaltedPassword, "Server Key").
func compute(password string, salt []byte, iterations int) (Verifier, error) {
	switch {
	case password == "":
		return Verifier{}, errEmptyPassword
	case strings.IndexByte(password, 0) >= 0:
		return Verifier{}, errNULPassword
	case len(salt) == 0:
		return Verifier{}, errEmptySalt
	case iterations < 1 || iterations > math.MaxInt32:
		return Verifier{}, errIterations
	}
	salted, err := pbkdf2.Key(sha256.New, prepare(password), salt, iterations, sha256.Size)
	if err != nil {
		return Verifier{}, fmt.Errorf("derive salted password: %w", err)
	}
	v := Verifier{Iterations: iterations, Salt: bytes.Clone(salt)}
	v.StoredKey = sha256.Sum256(hmacSHA256(salted, "Client Key"))
	copy(v.ServerKey[:], hmacSHA256(salted, "Server Key"))
	return v, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
