package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// tlsTimeout bounds the TLS handshake with one instance.
const tlsTimeout = 10 * time.Second

// sslRequestCode is the startup code of PostgreSQL's SSLRequest message.
const sslRequestCode = 80877103

// probeTLS reads the server certificate through a TLS handshake of its
// own, whatever the sessions' sslmode: PostgreSQL's SSLRequest, then TLS,
// then a close before any startup packet (the server logs nothing for a
// connection that sends none). The certificate is checked against the
// instance's address (its SAN) and, when roots are given, its chain.
func (c *Collector) probeTLS(ctx context.Context, in *model.Instance) *TLS {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := &TLS{CheckedAt: now()}
	addr := net.JoinHostPort(in.IP, strconv.Itoa(in.Port))
	ctx, cancel := context.WithTimeout(ctx, tlsTimeout)
	defer cancel()
	dial := c.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: tlsTimeout}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		t.Err = err.Error()
		return t
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
	if _, err := raw.Write(req[:]); err != nil {
		t.Err = fmt.Sprintf("send SSLRequest: %v", err)
		return t
	}
	var answer [1]byte
	if _, err := io.ReadFull(raw, answer[:]); err != nil {
		t.Err = fmt.Sprintf("read the answer to SSLRequest: %v", err)
		return t
	}
	switch answer[0] {
	case 'N':
		return t // TLS refused: Offered stays false
	case 'S':
	default:
		t.Err = fmt.Sprintf("unexpected answer %q to SSLRequest: not a PostgreSQL server?", answer[0])
		return t
	}
	t.Offered = true
	// The certificate is judged below, not by the handshake: an expired or
	// misnamed one must still be shown.
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err := conn.HandshakeContext(ctx); err != nil {
		t.Err = fmt.Sprintf("TLS handshake: %v", err)
		return t
	}
	defer conn.Close()
	st := conn.ConnectionState()
	t.Version = tls.VersionName(st.Version)
	if len(st.PeerCertificates) == 0 {
		t.Err = "the server sent no certificate"
		return t
	}
	describeCert(t, st.PeerCertificates, in.IP, c.Roots, c.RootsName)
	return t
}

// describeCert fills t from the server's certificate chain (leaf first).
func describeCert(t *TLS, chain []*x509.Certificate, ip string, roots *x509.CertPool, rootsName string) {
	leaf := chain[0]
	t.Subject = leaf.Subject.String()
	t.Issuer = leaf.Issuer.String()
	t.NotBefore, t.NotAfter = leaf.NotBefore, leaf.NotAfter
	t.DNSNames = append([]string(nil), leaf.DNSNames...)
	for _, a := range leaf.IPAddresses {
		t.IPs = append(t.IPs, a.String())
	}
	if err := leaf.VerifyHostname(ip); err != nil {
		t.NameMismatch = err.Error()
	}
	if roots == nil {
		return
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t.CheckedAt})
	switch {
	case err != nil:
		t.Chain = "not verified: " + err.Error()
	case rootsName != "":
		t.Chain = "verified against " + rootsName
	default:
		t.Chain = "verified"
	}
}
