package runas

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Account is the OS user the server programs run as: "postgres" when the
// test runs as root (postgres refuses to run as root), the current user
// otherwise.
type Account struct {
	Name     string
	UID, GID int
	Switched bool // true when programs run as another user than the test
}

// Lookup returns the account for this test process.
func Lookup() (Account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return Account{}, fmt.Errorf("look up current user: %w", err)
		}
		return Account{Name: u.Username, UID: os.Geteuid(), GID: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return Account{}, fmt.Errorf("look up OS user postgres (run scripts/install-deps.sh): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return Account{}, fmt.Errorf("parse uid of postgres: %w", err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return Account{}, fmt.Errorf("parse gid of postgres: %w", err)
	}
	return Account{Name: "postgres", UID: uid, GID: gid, Switched: true}, nil
}

// Command prepares name to run as the account, in its own process group,
// with a clean environment (no PG* variables of the caller) and dir as the
// working and home directory (libpq looks for ~/.postgresql client
// certificates). deathSig, if non-zero, is sent to the child when the test
// binary dies.
func (a Account) Command(dir string, deathSig syscall.Signal, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if a.Switched {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID)}
	}
	return cmd
}

// Mkdir creates path with mode, owned by the account.
func (a Account) Mkdir(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	return a.Own(path, mode)
}

// WriteFile atomically replaces path with data, owned by the account.
func (a Account) WriteFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".testenv-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := a.Own(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename file: %w", err)
	}
	return nil
}

// Own sets the mode of path (umask-free) and, when switched, its owner.
func (a Account) Own(path string, mode os.FileMode) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if a.Switched {
		if err := os.Chown(path, a.UID, a.GID); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
	}
	return nil
}

// CanReach checks, when switched, that the account may search every
// directory above path (not so for TMPDIR=/root/tmp under a 0700 /root).
// It reads owner, group and mode only: no ACLs, no supplementary groups.
func (a Account) CanReach(path string) error {
	if !a.Switched {
		return nil
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		if !a.searchable(st) {
			return fmt.Errorf("%s cannot reach %s: %s has mode %04o", a.Name, path, dir, st.Mode().Perm())
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

func (a Account) searchable(st os.FileInfo) bool {
	perm := st.Mode().Perm()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		switch {
		case int(sys.Uid) == a.UID:
			return perm&0o100 != 0
		case int(sys.Gid) == a.GID:
			return perm&0o010 != 0
		}
	}
	return perm&0o001 != 0
}

// CleanEnv is the caller's environment without libpq, locale and home
// variables, so a developer's PGHOST or LANG cannot steer the harness.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") ||
			strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C.UTF-8", "LC_MESSAGES=C")
}
