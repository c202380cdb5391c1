package source

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseAllowedSigners feeds arbitrary files to the allowed_signers
// parser: it must not panic, and every line it accepts has a key and
// principals. Seeds: testdata/fuzz/FuzzParseAllowedSigners.
func FuzzParseAllowedSigners(f *testing.F) {
	f.Add([]byte("alice@example.com " + edPub + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := parseAllowedSigners("fuzz", data, time.UTC)
		if err != nil {
			return
		}
		for _, a := range lines {
			if a.key == nil || a.principals == "" || a.pos == "" {
				t.Fatalf("accepted an incomplete line: %+v", a)
			}
			if !a.validAfter.IsZero() && a.validAfter.Unix() <= 0 || !a.validUntil.IsZero() && a.validUntil.Unix() <= 0 {
				t.Fatalf("accepted a time before 1970: %+v", a)
			}
		}
	})
}

// FuzzParseSSHSignature feeds arbitrary text to the SSH signature unarmor
// and parser, then verifies whatever parses: no panic, and nothing verifies
// over a payload it was not made for. Seeds: testdata/fuzz/FuzzParseSSHSignature.
func FuzzParseSSHSignature(f *testing.F) {
	f.Add([]byte(sshArmorBegin + "\nU1NIU0lH\n" + sshArmorEnd + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, err := parseSSHSignature(data)
		if err != nil {
			return
		}
		if sig.key == nil || sig.sig == nil {
			t.Fatal("parsed a signature without key or signature")
		}
		if err := sig.verify([]byte("not the signed payload"), sig.namespace); err == nil && !bytes.Contains(data, []byte("not the signed payload")) {
			t.Fatal("a signature verified over a payload it was not made for")
		}
	})
}
