package audit

import (
	"fmt"
	"strings"
	"time"
)

func judgeSSLOn(s *Subject) Verdict {
	st, uv := s.setting("ssl")
	if uv != nil {
		return *uv
	}
	var v verdict
	if st.Value == "on" {
		v.fact("ssl", "on")
	} else {
		v.fail("ssl", st.Value, "ssl is "+st.Value+": every connection is in clear text")
	}
	for _, name := range []string{"ssl_cert_file", "ssl_ca_file"} {
		if o, ok := s.Evidence.Settings[name]; ok {
			v.fact(name, "%s", orEmpty(o.Value))
		}
	}
	return v.done("the server offers TLS")
}

func judgeSSLMinProtocol(s *Subject) Verdict {
	st, uv := s.setting("ssl_min_protocol_version")
	if uv != nil {
		return *uv
	}
	var v verdict
	switch st.Value {
	case "TLSv1.2", "TLSv1.3":
		v.fact("ssl_min_protocol_version", "%s", st.Value)
	default:
		v.fail("ssl_min_protocol_version", st.Value, "the server accepts "+st.Value+", older than TLSv1.2")
	}
	if t := s.Evidence.TLS; t != nil && t.Version != "" {
		v.fact("negotiated", "%s", t.Version)
	}
	return v.done("TLS below 1.2 is refused")
}

func judgeServerCertificate(s *Subject) Verdict {
	t := s.Evidence.TLS
	switch {
	case t == nil:
		return unknown("the certificate was not read: %s", s.Evidence.Unread["tls"])
	case t.Err != "":
		return unknown("TLS handshake with %s: %s", s.Evidence.Addr, t.Err)
	}
	var v verdict
	if !t.Offered {
		v.fail("TLS", "refused", "the server refused TLS (SSLRequest answered N)")
		return v.done("")
	}
	v.fact("subject", "%s", t.Subject)
	v.fact("issuer", "%s", t.Issuer)
	v.fact("SAN", "%s", strings.Join(append(append([]string{}, t.DNSNames...), t.IPs...), ", "))
	notAfter := t.NotAfter.UTC().Format(time.RFC3339)
	left := t.NotAfter.Sub(t.CheckedAt)
	switch {
	case t.CheckedAt.Before(t.NotBefore):
		v.fail("not before", t.NotBefore.UTC().Format(time.RFC3339), "the certificate is not valid yet")
	case left <= 0:
		v.fail("not after", notAfter, "the certificate expired at "+notAfter)
	case left < s.Limits.CertMinValid:
		v.fail("not after", notAfter, fmt.Sprintf("the certificate expires in %d days (less than %d)", int(left.Hours()/24), int(s.Limits.CertMinValid.Hours()/24)))
	default:
		v.fact("not after", "%s (%d days left)", notAfter, int(left.Hours()/24))
	}
	if t.NameMismatch != "" {
		v.fail("name", s.Instance.IP, "the certificate does not name "+s.Instance.IP+": "+t.NameMismatch)
	} else {
		v.fact("name", "%s is in the SAN", s.Instance.IP)
	}
	switch {
	case t.Chain == "":
		v.fact("chain", "not checked: no root CA given (PGSSLROOTCERT)")
	case strings.HasPrefix(t.Chain, "verified"):
		v.fact("chain", "%s", t.Chain)
	default:
		v.fail("chain", t.Chain, "the certificate does not chain to the trusted root: "+t.Chain)
	}
	return v.done("the certificate names the instance and is valid for " + fmt.Sprint(int(left.Hours()/24)) + " more days")
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
