package audit

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadRoots reads the CA certificates of a PEM file (an sslrootcert), for
// Collector.Roots.
func LoadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read sslrootcert: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("sslrootcert %s holds no certificate", file)
	}
	return roots, nil
}
