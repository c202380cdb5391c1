package chaos

import (
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallTmpfs mounts a tmpfs of size bytes on a new directory for the
// test, or skips the test, saying why, where that cannot be done.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a disk-full state directory needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (a container without CAP_SYS_ADMIN?): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until the file system is full and returns
// its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := fh.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// Small writes too, down to the last byte.
	for _, err := fh.Write(buf[:1]); err == nil; _, err = fh.Write(buf[:1]) {
	}
	return p
}

// TestFaultStateDirFull (case H06's local side): the state directory is
// on a full file system when an apply succeeds. The apply says it could
// not record the commit, with the reason; the state still names the
// commit applied before (not half-written, no temporary file left), so
// the history check is as strict as before; once there is room, the next
// run records the new commit, and nothing is applied twice.
func TestFaultStateDirFull(t *testing.T) {
	eachSeed(t, func(t *testing.T, rng *rand.Rand, roles int) {
		dir := smallTmpfs(t, "256k")
		f := newFixture(t, roles, cluster.Primary.Addr, dir)
		hbaBefore := f.checkFiles("before")
		c1 := f.commit(1)
		if out, code := f.run("first apply", f.args("apply")...); code != 0 {
			t.Fatalf("first apply: exit %d\n%s", code, out)
		}
		f.checkState("after the first apply", true, c1)
		c2 := f.commit(2 + rng.IntN(5)) // every role changes
		filler := fill(t, dir)
		out, code := f.run("apply on a full disk", f.args("apply")...)
		if code == 0 {
			t.Fatalf("the apply reported success although it could not record the commit:\n%s", out)
		}
		if !strings.Contains(out, "no space left on device") {
			t.Errorf("the apply does not say why it could not record the commit:\n%s", out)
		}
		f.checkState("after the apply on a full disk", true, c1)
		f.checkCatalog("after the apply on a full disk")
		hbaAfter := f.checkFiles("after the apply on a full disk")
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		f.converge(c2, hbaBefore, hbaAfter)
		f.checkNoSecret()
	})
}
