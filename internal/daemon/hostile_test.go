package daemon

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWebhookHostileBodies (issue #18): a forged webhook with a 100 MB
// body is refused after reading at most maxWebhookBody bytes of it, with
// 413 (or the connection closed on the sender), and the daemon's memory
// does not grow with it; forged signatures on bodies within the bound are
// refused with 401 and trigger no fetch; the daemon stays healthy.
func TestWebhookHostileBodies(t *testing.T) {
	cluster.ResetForReconciler(t)
	r := newSignedRepo(t, daemonVars)
	secret := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secret, []byte("s3cret-hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startDaemon(t, "--repo", r.repo.Dir, "--allowed-signers", r.signers, "--drift-interval", "1h",
		"--poll-interval", "1h", "--state-dir", t.TempDir(), "--webhook-secret-file", secret)
	converged(t, p, 60*time.Second)
	rssBefore := p.metric("process_resident_memory_bytes")
	if rssBefore <= 0 {
		t.Fatal("no process_resident_memory_bytes: the memory check would prove nothing")
	}
	lastFetch := func() float64 { return p.metric("pgreconciler_source_last_fetch_timestamp_seconds") }
	fetchedBefore := lastFetch()

	const huge = 100 << 20
	for _, forge := range []string{"github", "gitlab", "gitea"} {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/hooks/"+forge, io.LimitReader(zeros{}, huge))
		req.ContentLength = huge
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		req.Header.Set("X-Gitlab-Token", "guess")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s: a 100 MB body got %d, want 413", forge, resp.StatusCode)
			}
		} else {
			t.Logf("%s: the daemon closed the connection on the 100 MB body: %v", forge, err)
		}
	}
	for _, body := range [][]byte{[]byte(`{"ref":"refs/heads/main"}`), bytes.Repeat([]byte("x"), maxWebhookBody)} {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/hooks/github", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a forged signature on a %d-byte body got %d, want 401", len(body), resp.StatusCode)
		}
	}
	if got := p.metric("process_resident_memory_bytes"); got-rssBefore > 50<<20 {
		t.Errorf("resident memory grew by %.0f MB over the hostile webhooks", (got-rssBefore)/(1<<20))
	}
	time.Sleep(1500 * time.Millisecond) // the metric has a resolution of a second
	if got := lastFetch(); got != fetchedBefore {
		t.Errorf("forged webhooks triggered a fetch (last fetch %v, was %v)", got, fetchedBefore)
	}
	// A genuine webhook still works, and moves the metric the check above
	// reads.
	body := []byte(`{"ref":"refs/heads/main"}`)
	m := hmac.New(sha256.New, []byte("s3cret-hook"))
	m.Write(body)
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/hooks/github", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("a genuine webhook after the hostile ones got %d", resp.StatusCode)
	}
	waitFor(t, 30*time.Second, "the genuine webhook's fetch", func() bool { return lastFetch() > fetchedBefore })
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}
