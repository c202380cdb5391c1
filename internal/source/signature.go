package source

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Method is the kind of signature on a commit.
type Method string

const (
	MethodGPG Method = "gpg" // OpenPGP, checked against armored public keys
	MethodSSH Method = "ssh" // SSHSIG, checked against an allowed_signers file
)

// Signer identifies the trusted key behind a signature.
type Signer struct {
	Method Method
	// Identity is, for OpenPGP, the key's primary user ID ("Name <email>");
	// for SSH, the principals of the allowed_signers line that admitted the
	// key.
	Identity string
	// Fingerprint is, for OpenPGP, the primary key's fingerprint in
	// upper-case hex; for SSH, ssh.FingerprintSHA256 of the key.
	Fingerprint string
}

func (s Signer) String() string {
	if s.Method == "" {
		return "-"
	}
	if s.Identity == "" {
		return fmt.Sprintf("%s (%s)", s.Fingerprint, s.Method)
	}
	return fmt.Sprintf("%s (%s %s)", s.Identity, s.Method, s.Fingerprint)
}

// Times are the two instants a signature is judged at, each the one git
// itself uses.
type Times struct {
	// Committed is the commit's committer time. SSH valid-after and
	// valid-before are checked against it: git passes it to
	// `ssh-keygen -Y verify` as -Overify-time.
	Committed time.Time
	// Now is the wall clock. OpenPGP key expiry, revocation and signature
	// expiry are checked against it, as gpg does when git asks it.
	Now time.Time
}

// ErrUnsigned is the reason for a commit without a signature.
var ErrUnsigned = errors.New("unsigned")

const (
	pgpArmorBegin = "-----BEGIN PGP SIGNATURE-----"
	sshArmorBegin = "-----BEGIN SSH SIGNATURE-----"
)

// VerifySignature checks signature over payload (the commit object without
// its gpgsig header) against trust, and returns the trusted signer. It does
// no I/O and reads no clock: at carries the times.
//
// The error is the reason for a refusal, written for humans: ErrUnsigned,
// "signed by unknown key …", "bad signature: …", "key … expired" and so
// on. On failure the returned Signer holds what is known about the key
// (method, and fingerprint or key ID when the signature names one), so a
// report can show who signed even when the key is not trusted.
func VerifySignature(payload []byte, signature string, at Times, trust *Trust) (Signer, error) {
	if trust == nil {
		trust = NewTrust()
	}
	switch {
	case signature == "":
		return Signer{}, ErrUnsigned
	case countArmorBlocks(signature) > 1:
		return Signer{}, errors.New("more than one signature block")
	case strings.HasPrefix(signature, pgpArmorBegin):
		return verifyPGP(payload, signature, at.Now, trust)
	case strings.HasPrefix(signature, sshArmorBegin):
		return verifySSH(payload, signature, at.Committed, trust)
	}
	first, _, _ := strings.Cut(signature, "\n")
	return Signer{}, fmt.Errorf("unsupported signature format %.40q", first)
}

// countArmorBlocks counts the lines that open an armored block.
func countArmorBlocks(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "-----BEGIN ") {
			n++
		}
	}
	return n
}
