package patroni

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// DefaultTimeout bounds every request; Restart adds the time PostgreSQL
// may take to come back.
const DefaultTimeout = 10 * time.Second

// maxBody is the most of a response the client reads.
const maxBody = 4 << 20

// Options configure a Client.
type Options struct {
	// Username and Password are Pigsty's patroni_username and
	// patroni_password: HTTP basic auth, sent on the unsafe endpoints
	// (POST, PATCH, DELETE) only; Patroni does not ask for it on GET.
	Username string
	Password model.Secret
	// CAFile is a PEM bundle that https endpoints are verified against
	// (Pigsty's /pg/cert/ca.crt); empty means the system's roots.
	CAFile string
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// DialContext, when set, opens the TCP connections, for example
	// through an SSH tunnel to a host whose REST API only listens
	// inside; nil means a direct connection.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client talks to the REST APIs of a cluster's Patroni members. It holds no
// per-member state: every call names the member's base URL, e.g.
// "https://10.10.10.11:8008". It is safe for concurrent use.
type Client struct {
	http     *http.Client
	username string
	password model.Secret
	timeout  time.Duration
}

// New returns a client; it fails when the CA file cannot be read.
func New(opts Options) (*Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the REST API is reached directly, never through HTTP(S)_PROXY
	if opts.DialContext != nil {
		tr.DialContext = opts.DialContext
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read Patroni CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read Patroni CA file %s: no PEM certificate in it", opts.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c := &Client{
		http:     &http.Client{Transport: tr, CheckRedirect: noRedirects},
		username: opts.Username,
		password: opts.Password,
		timeout:  opts.Timeout,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	return c, nil
}

// noRedirects keeps credentials from following a redirect anywhere.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// BaseURL is a member's REST API base URL from Pigsty's variables: the
// instance's IP, patroni_port and patroni_ssl_enabled.
func BaseURL(ip string, port int, ssl bool) string {
	scheme := "http"
	if ssl {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ip, fmt.Sprint(port))
}

// Sentinel errors an *HTTPError matches with errors.Is.
var (
	ErrUnauthorized = errors.New("unauthorized") // 401: wrong or missing REST credentials
	ErrForbidden    = errors.New("forbidden")    // 403: the allowlist (or a client certificate rule) refused us
	ErrUnavailable  = errors.New("unavailable")  // 503: the member cannot do it now
	ErrConflict     = errors.New("conflict")     // 409: e.g. another restart is already scheduled
	ErrNotFound     = errors.New("not found")    // 404
	ErrBadRequest   = errors.New("bad request")  // 400, 411, 412, 422: Patroni refused the request itself
	ErrServer       = errors.New("server error") // other 5xx
)

// HTTPError is a response with a status the call did not expect. Message
// is Patroni's (short, secret-free) reason, cleaned to one line.
type HTTPError struct {
	Method, URL string
	Status      int
	Message     string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is maps the status to one of the sentinel errors.
func (e *HTTPError) Is(target error) bool {
	switch e.Status {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusServiceUnavailable:
		return target == ErrUnavailable
	case http.StatusConflict:
		return target == ErrConflict
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusBadRequest, http.StatusLengthRequired, http.StatusPreconditionFailed, http.StatusUnprocessableEntity:
		return target == ErrBadRequest
	}
	return e.Status >= 500 && target == ErrServer
}

// response is a finished exchange: the status and the body.
type response struct {
	status int
	body   []byte
}

// do sends one request to base+path and reads the answer within timeout.
// Credentials go on unsafe methods only (auth false sends none, for
// probing).
func (c *Client) do(ctx context.Context, method, base, path string, body []byte, auth bool, timeout time.Duration) (response, error) {
	u, err := endpoint(base, path)
	if err != nil {
		return response{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && method != http.MethodGet && c.username != "" {
		req.SetBasicAuth(c.username, c.password.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats method and URL
		}
		return response{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read response: %w", method, u, err)
	}
	return response{status: resp.StatusCode, body: b}, nil
}

// expect turns a response whose status is not one of ok into an *HTTPError.
func expect(method, base, path string, r response, ok ...int) error {
	for _, s := range ok {
		if r.status == s {
			return nil
		}
	}
	u, _ := endpoint(base, path)
	return &HTTPError{Method: method, URL: u, Status: r.status, Message: oneLine(r.body)}
}

// endpoint joins a member's base URL and a path, refusing anything but a
// plain http(s)://host:port base: in particular credentials in the URL,
// which would end up in error messages.
func endpoint(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse Patroni URL: %w", redactURLError(err))
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("parse Patroni URL %s: credentials in the URL are not accepted; use the client's username and password", u.Redacted())
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("parse Patroni URL %s: scheme must be http or https", u.Redacted())
	case u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("parse Patroni URL %s: want scheme://host:port and nothing else", u.Redacted())
	}
	return u.Scheme + "://" + u.Host + path, nil
}

// redactURLError drops the URL from a parse error (it may hold a password).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// oneLine cleans a response body for an error message: printable, one
// line, at most 200 characters.
func oneLine(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.TrimSpace(string(b)))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
