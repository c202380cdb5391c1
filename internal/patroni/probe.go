package patroni

import (
	"context"
	"net/http"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// probeBody is what Probe sends to PATCH /config: a JSON array. Patroni
// checks the allowlist and the credentials before it reads the body, then
// refuses anything but a JSON object with 400 before it touches the DCS,
// and logs nothing above debug level. So the answer tells whether the
// reconciler may use the unsafe endpoints (403: the allowlist refuses it;
// 401: credentials required and wrong or missing; 400: let in) and nothing
// changes. (An empty body would do the same but makes Patroni log a
// traceback; a restart or reload request would act.)
var probeBody = []byte("[]")

// Probe finds out, without changing anything, whether the member's REST API
// lets the reconciler in (allowlist), whether it enforces authentication,
// and whether the client's credentials are accepted. It returns an error
// only when the API does not answer as Patroni does.
func (c *Client) Probe(ctx context.Context, base string) (*model.PatroniProbe, error) {
	p := &model.PatroniProbe{SSL: strings.HasPrefix(base, "https:")}
	anon, err := c.probe(ctx, base, false)
	if err != nil {
		return nil, err
	}
	switch anon {
	case http.StatusForbidden:
		return p, nil // not allowed in: nothing more can be learnt from here
	case http.StatusUnauthorized:
		p.Allowed, p.AuthEnforced = true, true
	default:
		p.Allowed, p.CredentialsAccepted = true, true // no authentication: anyone let in gets through
		return p, nil
	}
	withAuth, err := c.probe(ctx, base, true)
	if err != nil {
		return nil, err
	}
	p.CredentialsAccepted = withAuth == http.StatusBadRequest
	return p, nil
}

// probe sends the probe and returns the status, which must be one of the
// three Patroni answers.
func (c *Client) probe(ctx context.Context, base string, auth bool) (int, error) {
	r, err := c.do(ctx, http.MethodPatch, base, "/config", probeBody, auth, c.timeout)
	if err != nil {
		return 0, err
	}
	if err := expect(http.MethodPatch, base, "/config", r, http.StatusForbidden, http.StatusUnauthorized, http.StatusBadRequest); err != nil {
		return 0, err
	}
	return r.status, nil
}
