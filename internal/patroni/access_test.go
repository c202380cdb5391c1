package patroni_test

import (
	"errors"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/patroni"
	"github.com/pgreconciler/pgreconciler/internal/testenv/patronienv"
)

// A wrong REST password is refused (401) on the unsafe endpoints, nothing
// happens, and no error shows either password; GET needs none.
func TestWrongPasswordRefused(t *testing.T) {
	c := cluster(t)
	ctx := ctx(t)
	const wrong = "Wrong.Password.4711"
	bad := client(t, c, func(o *patroni.Options) { o.Password = model.NewSecret(wrong) })
	r := replica(t, c)
	before := status(t, bad, r) // GET works without the right password
	checkErr := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, patroni.ErrUnauthorized) {
			t.Fatalf("%s with a wrong password: %v", what, err)
		}
		if msg := err.Error(); strings.Contains(msg, wrong) || strings.Contains(msg, c.APIPassword) || !strings.Contains(msg, r.APIURL()) {
			t.Fatalf("%s: error %q shows a password or hides the URL", what, msg)
		}
	}
	checkErr("reload", bad.Reload(ctx, r.APIURL()))
	_, err := bad.Restart(ctx, r.APIURL(), patroni.RestartRequest{Timeout: time.Minute})
	checkErr("restart", err)
	if after := status(t, bad, r); !after.PostmasterStartTime.Equal(before.PostmasterStartTime) {
		t.Fatal("a refused restart restarted the member")
	}
	p, err := bad.Probe(ctx, r.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if *p != (model.PatroniProbe{Allowed: true, AuthEnforced: true}) {
		t.Fatalf("probe with a wrong password: %+v", p)
	}
	p, err = client(t, c).Probe(ctx, r.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if *p != (model.PatroniProbe{Allowed: true, AuthEnforced: true, CredentialsAccepted: true}) {
		t.Fatalf("probe with the right password: %+v", p)
	}
}

// Credentials in a base URL are refused before anything is sent, and the
// error does not repeat them.
func TestURLWithCredentialsRefused(t *testing.T) {
	c := cluster(t)
	u := strings.Replace(c.Members()[0].APIURL(), "://", "://postgres:Url.Secret@", 1)
	_, err := client(t, c).Status(ctx(t), u)
	if err == nil || strings.Contains(err.Error(), "Url.Secret") {
		t.Fatalf("error = %v", err)
	}
	for _, bad := range []string{"ftp://127.0.0.1:8008", "http://127.0.0.1:8008/patroni", "127.0.0.1:8008", "http://127.0.0.1:8008?x=1"} {
		if _, err := client(t, c).Status(ctx(t), bad); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
}

// A client whose address is not in restapi.allowlist is refused (403) on
// the unsafe endpoints, still reads, and the probe says so.
func TestAllowlistRefuses(t *testing.T) {
	c := cluster(t)
	ctx := ctx(t)
	outsider := client(t, c, func(o *patroni.Options) {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.9")}, Timeout: 5 * time.Second}
		o.DialContext = d.DialContext
	})
	r := replica(t, c)
	if _, err := outsider.Status(ctx, r.APIURL()); err != nil {
		t.Fatalf("GET from outside the allowlist: %v", err)
	}
	if err := outsider.Reload(ctx, r.APIURL()); !errors.Is(err, patroni.ErrForbidden) {
		t.Fatalf("reload from outside the allowlist: %v", err)
	}
	p, err := outsider.Probe(ctx, r.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if *p != (model.PatroniProbe{}) {
		t.Fatalf("probe from outside the allowlist: %+v", p)
	}
	s, err := patroni.ParseSettings(r.Name(), readFile(t, r.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	s.Probe = p
	if f := patroni.CheckSettings(expect(c, false), s); len(f) != 1 || f[0].Kind != model.SettingNotAllowed {
		t.Fatalf("findings %+v", f)
	}
}

// Probing changes nothing: the DCS configuration is the same and Patroni
// logged no error.
func TestProbeChangesNothing(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	m := c.Members()[0]
	before, err := cl.Config(ctx, m.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	offset := len(readFile(t, m.LogFile))
	noAuth := client(t, c, func(o *patroni.Options) { o.Username = "" })
	for range 3 {
		for _, p := range []*patroni.Client{cl, noAuth} {
			if _, err := p.Probe(ctx, m.APIURL()); err != nil {
				t.Fatal(err)
			}
		}
	}
	after, err := cl.Config(ctx, m.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("config changed:\n%+v\n%+v", before, after)
	}
	if log := string(readFile(t, m.LogFile)[offset:]); strings.Contains(log, "ERROR") || strings.Contains(log, "Traceback") {
		t.Fatalf("Patroni logged an error after the probes:\n%s", log)
	}
}

// The harness's patroni.yml, read the way the reconciler will read Pigsty's,
// and its live REST API match what the inventory renders; a changed
// expectation is reported.
func TestSettingsLive(t *testing.T) {
	c := cluster(t)
	cl := client(t, c)
	ctx := ctx(t)
	for _, m := range c.Members() {
		s, err := patroni.ParseSettings(m.Name(), readFile(t, m.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		if s.Probe, err = cl.Probe(ctx, m.APIURL()); err != nil {
			t.Fatal(err)
		}
		if f := patroni.CheckSettings(expect(c, false), s); len(f) != 0 {
			t.Errorf("%s: findings %+v", m.Name(), f)
		}
		f := patroni.CheckSettings(expect(c, true), s)
		if len(f) != 1 || f[0].Kind != model.SettingSSL {
			t.Errorf("%s with patroni_ssl_enabled: findings %+v", m.Name(), f)
		}
	}
}

// The REST API on https (patroni_ssl_enabled): verified against the CA,
// refused without it, and not reachable over http.
func TestTLS(t *testing.T) {
	c := patronienv.New(t, patronienv.Options{Name: "pg-tls", Members: 1, BaseIP: 5, SSL: true})
	ctx := ctx(t)
	m := c.Members()[0]
	if !strings.HasPrefix(m.APIURL(), "https://") {
		t.Fatalf("API URL %s", m.APIURL())
	}
	cl := client(t, c)
	st, err := cl.Status(ctx, m.APIURL())
	if err != nil || st.Role != "primary" {
		t.Fatalf("status over https: %+v %v", st, err)
	}
	if err := cl.Reload(ctx, m.APIURL()); err != nil {
		t.Fatalf("reload over https: %v", err)
	}
	p, err := cl.Probe(ctx, m.APIURL())
	if err != nil || *p != (model.PatroniProbe{SSL: true, Allowed: true, AuthEnforced: true, CredentialsAccepted: true}) {
		t.Fatalf("probe over https: %+v %v", p, err)
	}
	s, err := patroni.ParseSettings(m.Name(), readFile(t, m.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	s.Probe = p
	if f := patroni.CheckSettings(expect(c, true), s); len(f) != 0 {
		t.Fatalf("findings %+v", f)
	}

	noCA := client(t, c, func(o *patroni.Options) { o.CAFile = "" })
	_, err = noCA.Status(ctx, m.APIURL())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("status without the CA: %v", err)
	}
	err = noCA.Reload(ctx, m.APIURL())
	if err == nil || strings.Contains(err.Error(), c.APIPassword) {
		t.Fatalf("reload without the CA: %v", err)
	}
	if _, err := cl.Status(ctx, strings.Replace(m.APIURL(), "https:", "http:", 1)); err == nil {
		t.Fatal("plain http to the https API worked")
	}
	// And the other way round: https to the shared cluster's http API.
	shared := cluster(t)
	if _, err := client(t, shared).Status(ctx, strings.Replace(shared.Members()[0].APIURL(), "http:", "https:", 1)); err == nil {
		t.Fatal("https to an http API worked")
	}
	if _, err := patroni.New(patroni.Options{CAFile: c.CACertFile + ".missing"}); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}

// expect is what the inventory renders for c: Pigsty's pg_allow_list with
// the admin node at 127.0.0.1.
func expect(c *patronienv.Cluster, ssl bool) model.PatroniExpect {
	e := model.PatroniExpect{SSL: ssl, Username: c.APIUser, Allowlist: []string{patronienv.AdminIP}}
	for _, m := range c.Members() {
		e.Members = append(e.Members, m.Addr)
		if m.Addr != patronienv.AdminIP {
			e.Allowlist = append(e.Allowlist, m.Addr)
		}
	}
	return e
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
