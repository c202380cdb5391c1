package source

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	sshArmorEnd  = "-----END SSH SIGNATURE-----"
	sshSigMagic  = "SSHSIG"
	gitNamespace = "git"
)

// sshSig is a parsed SSHSIG blob (OpenSSH PROTOCOL.sshsig).
type sshSig struct {
	key       ssh.PublicKey
	namespace string
	reserved  string
	hashAlg   string
	sig       *ssh.Signature
}

// parseSSHSignature unarmors and parses an SSH signature as git stores it.
func parseSSHSignature(armored []byte) (*sshSig, error) {
	raw, err := unarmorSSH(armored)
	if err != nil {
		return nil, err
	}
	var blob struct {
		Magic     [6]byte
		Version   uint32
		PublicKey []byte
		Namespace string
		Reserved  string
		HashAlg   string
		Signature []byte
	}
	if err := ssh.Unmarshal(raw, &blob); err != nil {
		return nil, fmt.Errorf("parse SSHSIG blob: %w", err)
	}
	if string(blob.Magic[:]) != sshSigMagic {
		return nil, errors.New("parse SSHSIG blob: bad magic")
	}
	if blob.Version != 1 {
		return nil, fmt.Errorf("parse SSHSIG blob: unsupported version %d", blob.Version)
	}
	key, err := ssh.ParsePublicKey(blob.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("parse SSHSIG public key: %w", err)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(blob.Signature, sig); err != nil {
		return nil, fmt.Errorf("parse SSHSIG signature: %w", err)
	}
	return &sshSig{key: key, namespace: blob.Namespace, reserved: blob.Reserved, hashAlg: blob.HashAlg, sig: sig}, nil
}

// unarmorSSH returns the bytes between the BEGIN and END SSH SIGNATURE
// lines, base64-decoded.
func unarmorSSH(armored []byte) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(armored), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	if len(lines) < 3 || lines[0] != sshArmorBegin || lines[len(lines)-1] != sshArmorEnd {
		return nil, errors.New("unarmor SSH signature: missing BEGIN or END line")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines[1:len(lines)-1], ""))
	if err != nil {
		return nil, fmt.Errorf("unarmor SSH signature: %w", err)
	}
	return raw, nil
}

// verify checks the signature over message cryptographically, the way
// `ssh-keygen -Y verify` does: namespace and hash algorithm first, then the
// signature over the SSHSIG signed-data structure with the embedded key.
func (s *sshSig) verify(message []byte, namespace string) error {
	if s.namespace != namespace {
		return fmt.Errorf("signature namespace is %q, not %q", s.namespace, namespace)
	}
	var digest []byte
	switch s.hashAlg {
	case "sha512":
		h := sha512.Sum512(message)
		digest = h[:]
	case "sha256":
		h := sha256.Sum256(message)
		digest = h[:]
	default:
		return fmt.Errorf("unsupported signature hash algorithm %q", s.hashAlg)
	}
	if s.key.Type() == ssh.KeyAlgoRSA && s.sig.Format != ssh.KeyAlgoRSASHA256 && s.sig.Format != ssh.KeyAlgoRSASHA512 {
		return fmt.Errorf("RSA signature uses disallowed algorithm %q", s.sig.Format)
	}
	signed := ssh.Marshal(struct {
		Magic     [6]byte
		Namespace string
		Reserved  string
		HashAlg   string
		Hash      []byte
	}{[6]byte([]byte(sshSigMagic)), s.namespace, s.reserved, s.hashAlg, digest})
	if err := s.key.Verify(signed, s.sig); err != nil {
		return fmt.Errorf("bad signature: %w", err)
	}
	return nil
}

// verifySSH checks a git SSH signature against the allowed signers, with
// key validity judged at the committer time.
func verifySSH(payload []byte, signature string, committed time.Time, trust *Trust) (Signer, error) {
	s := Signer{Method: MethodSSH}
	sig, err := parseSSHSignature([]byte(signature))
	if err != nil {
		return s, fmt.Errorf("malformed SSH signature: %w", err)
	}
	if _, ok := sig.key.(*ssh.Certificate); ok {
		return s, errors.New("signed with an SSH certificate; certificates are not supported")
	}
	s.Fingerprint = ssh.FingerprintSHA256(sig.key)
	if err := sig.verify(payload, gitNamespace); err != nil {
		return s, err
	}
	wire := sig.key.Marshal()
	var reasons []string
	for _, a := range trust.ssh {
		if !bytes.Equal(a.key.Marshal(), wire) {
			continue
		}
		if err := a.admits(gitNamespace, committed); err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		s.Identity = a.principals
		return s, nil
	}
	if len(reasons) == 0 {
		return s, fmt.Errorf("signed by unknown key %s", s.Fingerprint)
	}
	return s, fmt.Errorf("key %s not valid: %s", s.Fingerprint, strings.Join(reasons, "; "))
}
