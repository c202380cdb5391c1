package sockdir

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listen binds a unix socket at path and closes it.
func listen(path string) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	return l.Close()
}

func TestNewUnderDeepTMPDIR(t *testing.T) {
	deep := DeepTempDir(t)
	// The limit is real: a socket cannot be bound there, and Check says so.
	sock := filepath.Join(deep, "S.gpg-agent")
	if err := listen(sock); err == nil {
		t.Fatalf("bound a socket at %d bytes: SunPathMax is wrong", len(sock))
	}
	if Check(sock) == nil {
		t.Errorf("Check(%s) = nil", sock)
	}

	t.Setenv("TMPDIR", deep)
	dir, err := New("pgreconciler-testenv-pg-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if filepath.Dir(dir) != fallback || len(dir) > MaxLen {
		t.Errorf("New under a deep TMPDIR = %s (%d bytes), want one in %s within %d", dir, len(dir), fallback, MaxLen)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("stat %s: %v, %v", dir, st, err)
	}
	// The room promised below it holds a socket.
	name := filepath.Join(dir, strings.Repeat("s", Room-1))
	if err := Check(name); err != nil {
		t.Error(err)
	}
	if err := listen(name); err != nil {
		t.Errorf("bind at %d bytes: %v", len(name), err)
	}
}

func TestNewKeepsShortTMPDIR(t *testing.T) {
	short, err := os.MkdirTemp("/tmp", "sd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(short)
	t.Setenv("TMPDIR", short)
	dir, err := New("x-")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != short {
		t.Errorf("New = %s, want it in TMPDIR %s", dir, short)
	}
	if got := Parents(); len(got) != 2 || got[0] != short || got[1] != fallback {
		t.Errorf("Parents() = %v", got)
	}
}

func TestNewPrefixTooLong(t *testing.T) {
	if dir, err := New(strings.Repeat("p", MaxLen)); err == nil {
		os.RemoveAll(dir)
		t.Fatalf("New made %s", dir)
	}
}
