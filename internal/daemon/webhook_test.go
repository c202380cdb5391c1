package daemon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
)

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"ref":"refs/heads/main"}`)
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	sig := hex.EncodeToString(m.Sum(nil))
	other := hmac.New(sha256.New, []byte("wrong"))
	other.Write(body)
	bad := hex.EncodeToString(other.Sum(nil))
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		forge string
		h     http.Header
		ok    bool
	}{
		{"github", h("X-Hub-Signature-256", "sha256="+sig), true},
		{"github", h("X-Hub-Signature-256", "sha256="+bad), false},
		{"github", h("X-Hub-Signature-256", sig[:10]), false},
		{"github", h(), false},
		{"gitea", h("X-Gitea-Signature", sig), true},
		{"gitea", h("X-Hub-Signature-256", "sha256="+sig), true},
		{"gitea", h("X-Gitea-Signature", bad), false},
		{"gitlab", h("X-Gitlab-Token", "s3cret"), true},
		{"gitlab", h("X-Gitlab-Token", "s3cret "), false},
		{"gitlab", h(), false},
		{"bitbucket", h("X-Hub-Signature-256", "sha256="+sig), false},
	} {
		if got := verifyWebhook(tc.forge, tc.h, body, secret); got != tc.ok {
			t.Errorf("%s %v: verified %v, want %v", tc.forge, tc.h, got, tc.ok)
		}
	}
}
