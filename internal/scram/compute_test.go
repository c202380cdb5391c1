package scram

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// TestRFC7677 checks Compute against the SCRAM-SHA-256 exchange of RFC 7677
// §3 (user "user", password "pencil"): a server holding our StoredKey must
// accept the RFC's ClientProof, and our ServerKey must produce the RFC's
// ServerSignature.
func TestRFC7677(t *testing.T) {
	salt := b64(t, "W22ZaJ0SNY7soEsUEjb6gQ==")
	s, err := Compute("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=" + nonce
	proof := b64(t, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	serverSignature := b64(t, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

	clientSignature := hmacSHA256(v.StoredKey[:], authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSignature[i]
	}
	if got := sha256.Sum256(clientKey); got != v.StoredKey {
		t.Errorf("the RFC's ClientProof does not verify against StoredKey %x", v.StoredKey)
	}
	if got := hmacSHA256(v.ServerKey[:], authMessage); !hmac.Equal(got, serverSignature) {
		t.Errorf("ServerSignature = %x, want %x", got, serverSignature)
	}
	if s != pencil {
		t.Errorf("Compute = %q, want %q", s, pencil)
	}
}

func TestNewAndMatches(t *testing.T) {
	for _, pw := range []string{"pencil", "correct horse battery staple", "p\u00E4ssw\u00F6rd", "\uFB01x", "a\u0340b"} {
		s, err := New(pw, rand.Reader)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		v, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(New()): %v", err)
		}
		if v.Iterations != DefaultIterations || len(v.Salt) != DefaultSaltLen {
			t.Errorf("New: iterations %d, salt %d bytes", v.Iterations, len(v.Salt))
		}
		if ok, err := Matches(pw, s); !ok || err != nil {
			t.Errorf("Matches(right password) = %v, %v", ok, err)
		}
		if ok, err := Matches(pw+"x", s); ok || err != nil {
			t.Errorf("Matches(wrong password) = %v, %v", ok, err)
		}
	}
}

func TestMatchesEquivalentForms(t *testing.T) {
	s, err := New("pa\u0308sswo\u0308rd", rand.Reader) // NFD
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"p\u00E4ssw\u00F6rd", "pa\u0308sswo\u0308rd"} {
		if ok, _ := Matches(pw, s); !ok {
			t.Errorf("Matches(%+q) = false for the NFD-set verifier", pw)
		}
	}
}

func TestComputeIsDeterministic(t *testing.T) {
	salt := []byte("0123456789abcdef")
	a, _ := Compute("pw", salt, 4096)
	b, _ := Compute("pw", bytes.Clone(salt), 4096)
	c, _ := Compute("pw", salt, 4097)
	if a != b || a == c {
		t.Errorf("Compute: same inputs gave %q and %q; other iterations gave %q", a, b, c)
	}
}

func TestComputeRejects(t *testing.T) {
	salt := []byte("0123456789abcdef")
	for name, f := range map[string]func() error{
		"empty password": func() error { _, err := Compute("", salt, 4096); return err },
		"nul byte":       func() error { _, err := Compute("a\x00b", salt, 4096); return err },
		"empty salt":     func() error { _, err := Compute("pw", nil, 4096); return err },
		"zero iters":     func() error { _, err := Compute("pw", salt, 0); return err },
		"short reader":   func() error { _, err := New("pw", iotest.ErrReader(errors.New("no entropy"))); return err },
		"too costly": func() error {
			_, err := Matches("pw", strings.Replace(pencil, "$4096:", "$2000000:", 1))
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMD5(t *testing.T) {
	// md5("pencil" + "user") as computed by Python's hashlib.
	const want = "md520c46e3762c864548e296b33c3406aa9"
	if got := MD5("pencil", "user"); got != want {
		t.Errorf("MD5 = %q, want %q", got, want)
	}
	if ok, err := MatchesMD5("pencil", "user", want); !ok || err != nil {
		t.Errorf("MatchesMD5(right) = %v, %v", ok, err)
	}
	if ok, err := MatchesMD5("pencil", "other", want); ok || err != nil {
		t.Errorf("MatchesMD5(other role) = %v, %v", ok, err)
	}
	if _, err := MatchesMD5("pencil", "user", pencil); err == nil {
		t.Error("MatchesMD5(scram verifier): no error")
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
