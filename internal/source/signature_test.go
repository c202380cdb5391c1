package source

import (
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// TestVerifyCorpusMatchesGit builds signed, unsigned, untrusted, tampered
// and out-of-policy commits with the real git, gpg and ssh-keygen, and
// checks that VerifySignature agrees with `git verify-commit` given the same
// keys, and says why.
func TestVerifyCorpusMatchesGit(t *testing.T) {
	repo := gitenv.NewRepo(t)
	alice := gitenv.NewGPGSigner(t, "Alice Signer", "alice@example.com")
	mallory := gitenv.NewGPGSigner(t, "Mallory", "mallory@example.com")
	edKey := gitenv.NewSSHSigner(t, "ed25519", "ed@example.com")
	rsaKey := gitenv.NewSSHSigner(t, "rsa", "rsa@example.com")
	strangerKey := gitenv.NewSSHSigner(t, "ed25519", "stranger@example.com")

	// A key that expired in 2020, used to sign while it was valid.
	past := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
	expired := gitenv.NewGPGSignerAt(t, "Old Key", "old@example.com", past, "1d")
	// A key revoked after it signed.
	revoked := gitenv.NewGPGSigner(t, "Revoked Key", "revoked@example.com")

	commit := func(msg string, s gitenv.Signer) string {
		repo.WriteFile("spec.txt", msg+"\n")
		return repo.Commit(msg, s)
	}
	gpgSigned := commit("gpg signed", alice)
	edSigned := commit("ssh ed25519 signed", edKey)
	rsaSigned := commit("ssh rsa signed", rsaKey)
	unsigned := commit("unsigned", nil)
	gpgUnknown := commit("signed by an untrusted gpg key", mallory)
	sshUnknown := commit("signed by an untrusted ssh key", strangerKey)
	tamper := func(rev string) string {
		return repo.ReplaceCommit(rev, func(raw string) string {
			return strings.Replace(raw, "signed\n", "signed, then edited\n", 1)
		})
	}
	gpgTampered := tamper(gpgSigned)
	sshTampered := tamper(edSigned)
	repo.WriteFile("spec.txt", "expired key\n")
	gpgExpired := repo.CommitAt("signed by a key that has expired since", expired, past.Add(time.Hour))
	gpgRevoked := commit("signed by a key revoked later", revoked)
	revoked.Revoke()
	base := commit("payload for a file-namespace signature", nil)
	fileNamespace := repo.SpliceSignature(base, edKey.Sign([]byte(repo.RawCommit(base)), "file"))
	sha256Sig := repo.SpliceSignature(base, sshSignSHA256(t, edKey, []byte(repo.RawCommit(base))))

	ed, rsa := edKey.AllowedSignersLine(""), rsaKey.AllowedSignersLine("")
	for _, tc := range []struct {
		name    string
		commit  string
		allowed []string
		gpg     []*gitenv.GPGSigner
		wantOK  bool
		reason  string // substring of the refusal reason
		signer  Signer // checked when wantOK
	}{
		{name: "gpg trusted", commit: gpgSigned, gpg: []*gitenv.GPGSigner{alice}, wantOK: true,
			signer: Signer{MethodGPG, "Alice Signer <alice@example.com>", alice.Fingerprint()}},
		{name: "ssh ed25519 trusted", commit: edSigned, allowed: []string{ed, rsa}, wantOK: true,
			signer: Signer{MethodSSH, "ed@example.com", edKey.Fingerprint()}},
		{name: "ssh rsa trusted", commit: rsaSigned, allowed: []string{ed, rsa}, wantOK: true,
			signer: Signer{MethodSSH, "rsa@example.com", rsaKey.Fingerprint()}},
		{name: "ssh quoted principals and git namespace", commit: edSigned,
			allowed: []string{`"ed@example.com,ops@example.com" namespaces="git,file" ` + edKey.PublicKey() + " a comment"},
			wantOK:  true, signer: Signer{MethodSSH, "ed@example.com,ops@example.com", edKey.Fingerprint()}},
		{name: "ssh sha256 hash", commit: sha256Sig, allowed: []string{ed}, wantOK: true,
			signer: Signer{MethodSSH, "ed@example.com", edKey.Fingerprint()}},
		{name: "unsigned", commit: unsigned, allowed: []string{ed}, gpg: []*gitenv.GPGSigner{alice}, reason: "unsigned"},
		{name: "gpg unknown key", commit: gpgUnknown, gpg: []*gitenv.GPGSigner{alice}, reason: "signed by unknown key " + mallory.KeyID()},
		{name: "gpg key not trusted at all", commit: gpgSigned, allowed: []string{ed}, reason: "signed by unknown key " + alice.KeyID()},
		{name: "ssh unknown key", commit: sshUnknown, allowed: []string{ed, rsa}, reason: "signed by unknown key " + strangerKey.Fingerprint()},
		{name: "gpg payload tampered", commit: gpgTampered, gpg: []*gitenv.GPGSigner{alice}, reason: "bad signature"},
		{name: "ssh payload tampered", commit: sshTampered, allowed: []string{ed}, reason: "bad signature"},
		{name: "gpg key expired", commit: gpgExpired, gpg: []*gitenv.GPGSigner{expired}, reason: "expired"},
		{name: "gpg key revoked", commit: gpgRevoked, gpg: []*gitenv.GPGSigner{revoked}, reason: "revoked"},
		{name: "ssh valid-before in the past", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`valid-before="20200101"`)}, reason: "key has expired"},
		{name: "ssh valid-after in the future", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`valid-after="20990101"`)}, reason: "key is not yet valid"},
		{name: "ssh valid window around the commit", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`valid-after="20200101",valid-before="20990101"`)}, wantOK: true,
			signer: Signer{MethodSSH, "ed@example.com", edKey.Fingerprint()}},
		{name: "ssh allowed only for namespace file", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`namespaces="file"`)}, reason: `not permitted for namespace "git"`},
		{name: "ssh negated git namespace", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`namespaces="*,!git"`)}, reason: `not permitted for namespace "git"`},
		{name: "ssh signature made for namespace file", commit: fileNamespace, allowed: []string{ed}, reason: `signature namespace is "file"`},
		{name: "ssh expired line, valid second line", commit: edSigned,
			allowed: []string{edKey.AllowedSignersLine(`valid-before="20200101"`), "second@example.com " + edKey.PublicKey()},
			wantOK:  true, signer: Signer{MethodSSH, "second@example.com", edKey.Fingerprint()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := trustFiles(t, tc.allowed, tc.gpg...)
			gitOK, gitOut := gitenv.VerifyCommitWithGit(t, repo, tc.commit, k.allowedSigners, k.gnupgHome)
			signer, err := verifyInRepo(t, repo, tc.commit, k.trust)
			if gitOK != tc.wantOK {
				t.Fatalf("git verify-commit ok=%v, the test expects %v:\n%s", gitOK, tc.wantOK, gitOut)
			}
			if (err == nil) != gitOK {
				t.Fatalf("VerifySignature err=%v, git verify-commit ok=%v:\n%s", err, gitOK, gitOut)
			}
			if tc.wantOK {
				if signer != tc.signer {
					t.Errorf("signer = %+v, want %+v", signer, tc.signer)
				}
				return
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("reason %q does not mention %q", err, tc.reason)
			}
		})
	}
}

// TestSSHValidityAtCommitTime pins git's semantics for valid-after and
// valid-before: judged at the committer time, both bounds inclusive, times
// without Z in the local zone (here Asia/Tokyo, set for git and ssh-keygen
// through TZ), with Z in UTC.
func TestSSHValidityAtCommitTime(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	repo := gitenv.NewRepo(t)
	repo.Extra = []string{"TZ=Asia/Tokyo"}
	key := gitenv.NewSSHSigner(t, "ed25519", "ed@example.com")
	at := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC) // 21:00 in Tokyo
	hash := repo.CommitAt("dated", key, at)

	local := func(t time.Time) string { return t.In(tokyo).Format("20060102150405") }
	utc := func(t time.Time) string { return t.UTC().Format("200601021504") + "Z" }
	for _, tc := range []struct {
		opts   string
		wantOK bool
	}{
		{`valid-after="` + local(at) + `"`, true},
		{`valid-after="` + local(at.Add(time.Second)) + `"`, false},
		{`valid-before="` + local(at) + `"`, true},
		{`valid-before="` + local(at.Add(-time.Second)) + `"`, false},
		{`valid-before="` + utc(at) + `"`, true},
		{`valid-before="` + utc(at.Add(-time.Minute)) + `"`, false},
		{`valid-after="20240615"`, true},   // midnight in Tokyo
		{`valid-after="20240616"`, false},  // 2024-06-16 00:00 JST is after 21:00 JST
		{`valid-before="20240615"`, false}, // midnight in Tokyo, before the commit
		{`valid-after="20240615120001Z"`, false},
		{`valid-after="20240615120000UTC"`, true},
	} {
		t.Run(tc.opts, func(t *testing.T) {
			k := trustFilesIn(t, tokyo, []string{key.AllowedSignersLine(tc.opts)})
			gitOK, gitOut := gitenv.VerifyCommitWithGit(t, repo, hash, k.allowedSigners, "")
			_, err := verifyInRepo(t, repo, hash, k.trust)
			if gitOK != tc.wantOK || (err == nil) != tc.wantOK {
				t.Fatalf("git ok=%v, ours err=%v, want ok=%v\n%s", gitOK, err, tc.wantOK, gitOut)
			}
		})
	}
}

// sshSignSHA256 makes an SSH signature with hash sha256, which ssh-keygen
// offers through -O hashalg=sha256 (git itself always uses sha512).
func sshSignSHA256(t *testing.T, s *gitenv.SSHSigner, data []byte) string {
	t.Helper()
	sig := s.SignWith(data, "git", "hashalg=sha256")
	blob, err := parseSSHSignature([]byte(sig))
	if err != nil {
		t.Fatal(err)
	}
	if blob.hashAlg != "sha256" {
		t.Fatalf("ssh-keygen made a %s signature", blob.hashAlg)
	}
	return sig
}

func TestVerifySignatureRejectsOddInput(t *testing.T) {
	key := gitenv.NewSSHSigner(t, "ed25519", "ed@example.com")
	sig := key.Sign([]byte("payload"), "git")
	trust := NewTrust()
	if err := trust.AddAllowedSigners("allowed", []byte(key.AllowedSignersLine("")), time.UTC); err != nil {
		t.Fatal(err)
	}
	now := Times{Committed: time.Now(), Now: time.Now()}
	if _, err := VerifySignature([]byte("payload"), sig, now, trust); err != nil {
		t.Fatalf("plain ssh-keygen signature: %v", err)
	}
	for name, tc := range map[string]struct{ sig, reason string }{
		"two blocks":   {sig + sig, "more than one signature block"},
		"x509":         {"-----BEGIN SIGNED MESSAGE-----\nabc\n-----END SIGNED MESSAGE-----\n", "unsupported signature format"},
		"garbage ssh":  {sshArmorBegin + "\n!!!\n" + sshArmorEnd + "\n", "malformed SSH signature"},
		"garbage pgp":  {pgpArmorBegin + "\n\nAAAA\n-----END PGP SIGNATURE-----\n", "malformed OpenPGP signature"},
		"unsigned":     {"", "unsigned"},
		"no end line":  {strings.TrimSuffix(sig, sshArmorEnd+"\n"), "malformed SSH signature"},
		"pgp no trust": {pgpArmorBegin, "malformed"},
	} {
		if _, err := VerifySignature([]byte("payload"), tc.sig, now, trust); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.reason)
		}
	}
	if _, err := VerifySignature([]byte("payload"), sig, now, nil); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("nil trust: err = %v", err)
	}
}
