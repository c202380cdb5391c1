package testenv

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

// account is the OS user the PostgreSQL programs run as: "postgres" when the
// test runs as root (postgres refuses to run as root), the current user
// otherwise.
type account struct {
	name     string
	uid, gid int
	switched bool // true when programs run as another user than the test
}

func lookupAccount() (account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return account{}, fmt.Errorf("look up current user: %w", err)
		}
		return account{name: u.Username, uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("look up OS user postgres (run scripts/install-deps.sh): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("parse uid of postgres: %w", err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("parse gid of postgres: %w", err)
	}
	return account{name: "postgres", uid: uid, gid: gid, switched: true}, nil
}

// command prepares name to run as the account, in its own process group,
// with a clean environment (no PG* variables of the caller) and dir as the
// working and home directory (libpq looks for ~/.postgresql client
// certificates). deathSig, if non-zero, is sent to the child when the test
// binary dies.
func (a account) command(dir string, deathSig syscall.Signal, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if a.switched {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	}
	return cmd
}

// mkdir creates path with mode, owned by the account.
func (a account) mkdir(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, mode); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	return a.own(path, mode)
}

// writeFile atomically replaces path with data, owned by the account.
func (a account) writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".testenv-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := a.own(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename file: %w", err)
	}
	return nil
}

// own sets the mode of path (umask-free) and, when switched, its owner.
func (a account) own(path string, mode os.FileMode) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if a.switched {
		if err := os.Chown(path, a.uid, a.gid); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
	}
	return nil
}

// canReach checks, when switched, that the account may search every
// directory above path (not so for TMPDIR=/root/tmp under a 0700 /root).
// It reads owner, group and mode only: no ACLs, no supplementary groups.
func (a account) canReach(path string) error {
	if !a.switched {
		return nil
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		if !a.searchable(st) {
			return fmt.Errorf("%s cannot reach %s: %s has mode %04o", a.name, path, dir, st.Mode().Perm())
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

func (a account) searchable(st os.FileInfo) bool {
	perm := st.Mode().Perm()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		switch {
		case int(sys.Uid) == a.uid:
			return perm&0o100 != 0
		case int(sys.Gid) == a.gid:
			return perm&0o010 != 0
		}
	}
	return perm&0o001 != 0
}

// cleanEnv is the caller's environment without libpq, locale and home
// variables, so a developer's PGHOST or LANG cannot steer the harness.
func cleanEnv() []string {
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
