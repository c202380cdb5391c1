package source

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// verifyPGP checks an armored OpenPGP detached signature with the same
// library go-git's Commit.Verify uses, but with the clock passed in, and
// names the key behind a failure.
func verifyPGP(payload []byte, signature string, now time.Time, trust *Trust) (Signer, error) {
	s := Signer{Method: MethodGPG}
	keyID, issuerFpr, err := pgpIssuer(signature)
	if err != nil {
		return s, fmt.Errorf("malformed OpenPGP signature: %w", err)
	}
	s.Fingerprint = issuerFpr
	if len(trust.pgp) == 0 || len(trust.pgp.KeysById(keyID)) == 0 {
		return s, fmt.Errorf("signed by unknown key %016X", keyID)
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	ent, err := openpgp.CheckArmoredDetachedSignature(trust.pgp, bytes.NewReader(payload), strings.NewReader(signature), cfg)
	if ent != nil {
		s.Fingerprint = pgpFingerprint(ent.PrimaryKey.Fingerprint)
		if id := ent.PrimaryIdentity(); id != nil {
			s.Identity = id.Name
		}
	}
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return s, fmt.Errorf("signed by unknown key %016X (no signing key with that ID is trusted)", keyID)
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return s, fmt.Errorf("key %s is revoked", s.Fingerprint)
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return s, fmt.Errorf("key %s expired before %s", s.Fingerprint, now.UTC().Format(time.RFC3339))
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return s, fmt.Errorf("signature by key %s is expired or dated after %s", s.Fingerprint, now.UTC().Format(time.RFC3339))
	}
	return s, fmt.Errorf("bad signature: %w", err)
}

// pgpIssuer reads the key ID (and fingerprint, when the signature carries
// one) of the key that made an armored signature.
func pgpIssuer(signature string) (keyID uint64, fpr string, err error) {
	block, err := armor.Decode(strings.NewReader(signature))
	if err != nil {
		return 0, "", err
	}
	p, err := packet.Read(block.Body)
	if err != nil {
		return 0, "", err
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return 0, "", errors.New("not a signature packet")
	}
	if sig.IssuerKeyId == nil {
		return 0, "", errors.New("signature names no issuer key")
	}
	return *sig.IssuerKeyId, pgpFingerprint(sig.IssuerFingerprint), nil
}

func pgpFingerprint(b []byte) string { return fmt.Sprintf("%X", b) }

// parsePGPKeys reads armored public keys. Private key material is refused:
// a trust file holds public keys only.
func parsePGPKeys(name string, armored []byte) (openpgp.EntityList, error) {
	list, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("read OpenPGP keys from %s: %w", name, err)
	}
	for _, e := range list {
		if e.PrivateKey != nil {
			return nil, fmt.Errorf("read OpenPGP keys from %s: key %s includes a private key; export public keys only",
				name, pgpFingerprint(e.PrimaryKey.Fingerprint))
		}
	}
	return list, nil
}
