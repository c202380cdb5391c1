package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

func TestServer(t *testing.T) {
	s := Start(t, Options{})

	t.Run("key login as postgres with the ed25519 pin", func(t *testing.T) {
		if out := run(t, s, s.KnownHostsFile, "id -un"); out != "postgres" {
			t.Fatalf("id -un = %q", out)
		}
	})

	t.Run("known_hosts with every key works with default algorithms", func(t *testing.T) {
		cb, err := xknownhosts.New(s.KnownHostsAllFile)
		if err != nil {
			t.Fatal(err)
		}
		client, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
			User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer(t, s))}, HostKeyCallback: cb,
		})
		if err != nil {
			t.Fatal(err)
		}
		client.Close()
	})

	t.Run("an unknown client key is refused", func(t *testing.T) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		other, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		cfg := clientConfig(t, s, s.KnownHostsFile)
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(other)}
		if client, err := ssh.Dial("tcp", s.Addr, cfg); err == nil {
			client.Close()
			t.Fatal("login with a key missing from authorized_keys succeeded")
		}
	})

	t.Run("a rotated host key is refused", func(t *testing.T) {
		if err := s.RotateHostKeys(); err != nil {
			t.Fatal(err)
		}
		client, err := ssh.Dial("tcp", s.Addr, clientConfig(t, s, s.KnownHostsFile))
		if err == nil {
			client.Close()
			t.Fatal("connected although the host key changed")
		}
		var keyErr *xknownhosts.KeyError
		if !errors.As(err, &keyErr) || len(keyErr.Want) == 0 || !knownhosts.IsHostKeyChanged(err) {
			t.Fatalf("want a changed-host-key error, got %v", err)
		}
	})
}

// clientConfig is the client setup that works with a partial pin: host
// key algorithms taken from the pinned keys (x/crypto's default order
// asks for ecdsa first and then fails against an ed25519-only pin).
func clientConfig(t *testing.T, s *Server, knownHostsFile string) *ssh.ClientConfig {
	t.Helper()
	db, err := knownhosts.NewDB(knownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	return &ssh.ClientConfig{
		User:              s.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer(t, s))},
		HostKeyCallback:   db.HostKeyCallback(),
		HostKeyAlgorithms: db.HostKeyAlgorithms(s.Addr),
	}
}

func signer(t *testing.T, s *Server) ssh.Signer {
	t.Helper()
	pem, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func run(t *testing.T, s *Server, knownHostsFile, command string) string {
	t.Helper()
	client, err := ssh.Dial("tcp", s.Addr, clientConfig(t, s, knownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	out, err := session.CombinedOutput(command)
	if err != nil {
		t.Fatalf("%s: %v: %s", command, err, out)
	}
	return strings.TrimSpace(string(out))
}
