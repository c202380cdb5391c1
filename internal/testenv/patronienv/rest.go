package patronienv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// The harness reads Patroni's REST API with its own few lines rather than
// internal/patroni, so that the client under test is checked against an
// independent reading (and patronictl), not against itself.

// MemberView is one member as GET /cluster lists it.
type MemberView struct {
	Name     string `json:"name"`
	Role     string `json:"role"`  // leader, replica, sync_standby, standby_leader
	State    string `json:"state"` // running, streaming, starting, stopped, crashed …
	Timeline int    `json:"timeline"`
	Lag      any    `json:"lag"` // bytes, or "unknown"
}

// ClusterView is GET /cluster.
type ClusterView struct {
	Members []MemberView `json:"members"`
}

// Leader returns the member with the leader role, or "".
func (v ClusterView) Leader() string {
	for _, m := range v.Members {
		if m.Role == "leader" || m.Role == "standby_leader" {
			return m.Name
		}
	}
	return ""
}

// httpClient trusts the cluster's CA.
func (c *Cluster) httpClient() *http.Client {
	pool := x509.NewCertPool()
	if b, err := os.ReadFile(c.tls.CA); err == nil {
		pool.AppendCertsFromPEM(b)
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
	}
}

// View reads GET /cluster from the first member that answers.
func (c *Cluster) View(ctx context.Context) (ClusterView, error) {
	var errs []error
	for _, m := range c.members {
		var v ClusterView
		err := c.getJSON(ctx, m.APIURL()+"/cluster", &v)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
	}
	return ClusterView{}, fmt.Errorf("read cluster view: %v", errs)
}

// memberState reads the state field of GET /patroni on m.
func (c *Cluster) memberState(ctx context.Context, m *Member) (string, error) {
	var st struct {
		State string `json:"state"`
	}
	err := c.getJSON(ctx, m.APIURL()+"/patroni", &st)
	return st.State, err
}

func (c *Cluster) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.Unmarshal(b, v)
}

// Patronictl runs patronictl as the server user with the first member's
// patroni.yml (its etcd3, ctl and REST credentials) and returns its
// combined output.
func (c *Cluster) Patronictl(ctx context.Context, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("patronictl")
	if err != nil {
		return nil, err
	}
	m := c.members[0]
	cmd := c.acct.Command(m.dir, 0, bin, append([]string{"-c", m.ConfigFile}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run patronictl: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		err = ctx.Err()
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("run patronictl %v: %w: %s", args, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}
