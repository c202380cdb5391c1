package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// Files are the paths of a throwaway PKI, laid out like Pigsty's /pg/cert.
type Files struct {
	CA   string // ca.crt: the CA certificate, usable as sslrootcert or a client's CA file
	Cert string // server.crt: for localhost and the given addresses, signed by the CA
	Key  string // server.key: the certificate's key, 0600, owned by the account
}

// Write creates a new CA and a server certificate signed by it in dir/tls.
func Write(dir string, acct runas.Account, ips []net.IP) (Files, error) {
	caKey, caDER, err := newCert(nil, nil, pkix.Name{CommonName: "pgreconciler testenv CA"}, nil)
	if err != nil {
		return Files{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return Files{}, fmt.Errorf("parse CA certificate: %w", err)
	}
	key, der, err := newCert(caCert, caKey, pkix.Name{CommonName: "localhost"}, ips)
	if err != nil {
		return Files{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Files{}, fmt.Errorf("marshal TLS key: %w", err)
	}
	tlsDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(tlsDir, 0o755); err != nil {
		return Files{}, fmt.Errorf("create TLS directory: %w", err)
	}
	f := Files{
		CA:   filepath.Join(tlsDir, "ca.crt"),
		Cert: filepath.Join(tlsDir, "server.crt"),
		Key:  filepath.Join(tlsDir, "server.key"),
	}
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	if err := os.WriteFile(f.CA, pemOf("CERTIFICATE", caDER), 0o644); err != nil {
		return Files{}, fmt.Errorf("write CA certificate: %w", err)
	}
	if err := os.WriteFile(f.Cert, pemOf("CERTIFICATE", der), 0o644); err != nil {
		return Files{}, fmt.Errorf("write server certificate: %w", err)
	}
	if err := acct.WriteFile(f.Key, pemOf("PRIVATE KEY", keyDER), 0o600); err != nil {
		return Files{}, fmt.Errorf("write TLS key: %w", err)
	}
	return f, nil
}

// newCert makes a P-256 key and a certificate for it: a self-signed CA when
// parent is nil, else a server certificate for localhost and ips signed by
// parent.
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, subject pkix.Name, ips []net.IP) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-48 * time.Hour), // tolerate skewed clocks
		NotAfter:     now.AddDate(1, 0, 0),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		signer, signerKey = parent, parentKey
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = ips
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate %s: %w", subject.CommonName, err)
	}
	return key, der, nil
}
