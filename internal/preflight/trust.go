package preflight

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/source"
)

// trust judges the allowed_signers file and the OpenPGP key files with the
// parsers verification uses, then the keys' validity now: a key that has
// expired or is revoked is a warning, a trust in which no key can verify a
// new commit is an error.
func (c *checker) trust() {
	t := c.cfg.Trust
	usable, read := 0, 0
	judge := func(key string, tr *source.Trust) {
		read++
		bad, ok := tr.Unusable(c.opts.Now)
		usable += ok
		for _, b := range bad {
			c.warn(key, "%s", b)
		}
	}
	if t.AllowedSigners != "" {
		if data, ok := c.read("trust.allowed_signers", t.AllowedSigners, public); ok {
			tr := source.NewTrust()
			switch err := tr.AddAllowedSigners(t.AllowedSigners, data, nil); {
			case err != nil:
				c.badErr("trust.allowed_signers", err)
			case tr.Empty():
				c.bad("trust.allowed_signers", "%s lists no signer", t.AllowedSigners)
			default:
				judge("trust.allowed_signers", tr)
			}
		}
	}
	for i, f := range t.PGPKeys {
		key := fmt.Sprintf("trust.pgp_keys[%d]", i)
		data, ok := c.read(key, f, public)
		if !ok {
			continue
		}
		tr := source.NewTrust()
		switch err := tr.AddPGPKeys(f, data); {
		case err != nil:
			c.badErr(key, err)
		case tr.Empty():
			c.bad(key, "%s holds no OpenPGP public key", f)
		default:
			judge(key, tr)
		}
	}
	if read > 0 && usable == 0 {
		c.bad("trust", "no trusted key can verify a new commit: every key is expired, revoked or not yet valid")
	}
}
