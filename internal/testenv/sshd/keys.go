package sshd

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// generateHostKeys replaces the host keys in dir with new ones made by
// ssh-keygen and returns their private key files by type.
func generateHostKeys(dir string, types []string) (map[string]string, error) {
	files := map[string]string{}
	for _, typ := range types {
		path := filepath.Join(dir, "ssh_host_"+typ+"_key")
		for _, f := range []string{path, path + ".pub"} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("remove old host key: %w", err)
			}
		}
		args := []string{"-q", "-t", typ, "-N", "", "-C", "pgreconciler-testenv", "-f", path}
		if typ == "ecdsa" {
			args = append(args, "-b", "256")
		}
		if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("generate %s host key: %w: %s", typ, err, bytes.TrimSpace(out))
		}
		files[typ] = path
	}
	return files, nil
}

// writeClientKey writes a new ed25519 client key as an OpenSSH private key
// file (0600) and returns its authorized_keys line.
func writeClientKey(path string) ([]byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "pgreconciler-testenv client")
	if err != nil {
		return nil, fmt.Errorf("marshal client key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write client key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("convert client public key: %w", err)
	}
	return ssh.MarshalAuthorizedKey(sshPub), nil
}

// writeKnownHosts writes a known_hosts file pinning the public keys of the
// given host key files for addr ("127.0.0.1:port" becomes
// "[127.0.0.1]:port").
func writeKnownHosts(path, addr string, keyFiles []string) error {
	var b strings.Builder
	for _, f := range keyFiles {
		data, err := os.ReadFile(f + ".pub")
		if err != nil {
			return fmt.Errorf("read host public key: %w", err)
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			return fmt.Errorf("parse host public key %s: %w", f, err)
		}
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	return nil
}
