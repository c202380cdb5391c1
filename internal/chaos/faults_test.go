package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/faultproxy"
)

// passwordsSet is how many of the spec's roles have a password, or -1.
func (f *fixture) passwordsSet() int {
	v, err := cluster.Primary.LocalValue(context.Background(), "postgres", `SELECT count(*) FROM pg_authid WHERE rolname LIKE 'chaos\_u%' AND rolpassword IS NOT NULL`)
	if err != nil {
		return -1
	}
	n, _ := strconv.Atoi(v)
	return n
}

// faultPoint waits for a point of the apply p runs, chosen by rng: after
// the k-th password transaction (k = 0: as soon as the roles exist), or
// a moment after the last one, in the database, parameter and pg_hba.conf
// steps. It returns what it waited for.
func (f *fixture) faultPoint(rng *rand.Rand, p *proc) string {
	f.t.Helper()
	if rng.IntN(4) == 0 {
		f.waitPasswords(p, f.roles)
		d := time.Duration(rng.IntN(300)) * time.Millisecond
		time.Sleep(d)
		return fmt.Sprintf("%s after the last password", d)
	}
	k := rng.IntN(f.roles + 1)
	if k == 0 {
		f.waitProgress(p, 1)
		return "as soon as the roles exist"
	}
	f.waitPasswords(p, k)
	return fmt.Sprintf("after password %d of %d", k, f.roles)
}

func (f *fixture) waitPasswords(p *proc, n int) {
	f.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return
		default:
		}
		if f.passwordsSet() >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	f.t.Fatalf("fewer than %d passwords set after 3 minutes", n)
}

// afterFault checks the invariants after a fault in the apply of commit
// c (applied: the apply got to its end, so the state may name c), then
// converges and checks them again. strict: no temporary file may be left
// in the state directory (only a kill can leave one).
func (f *fixture) afterFault(when, c string, applied, strict bool, hbaBefore []byte) {
	f.t.Helper()
	f.checkCatalog(when)
	hbaAfter := f.checkFiles(when)
	allowed := []string{""}
	if applied {
		allowed = append(allowed, c)
	}
	f.checkState(when, strict, allowed...)
	f.converge(c, hbaBefore, hbaAfter)
	f.checkNoSecret()
}

// failureNamesInstance: an apply that failed says where.
func (f *fixture) failureNamesInstance(out string, code int) {
	f.t.Helper()
	if code != 0 && !strings.Contains(out, "pg-chaos-1") {
		f.t.Errorf("the failed apply does not name the instance:\n%s", out)
	}
}

// ended reports whether p had already ended.
func ended(p *proc) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// TestFaultKillReconcilerMidApply (case F05): the reconciler is killed
// with SIGKILL at a random point of a large apply. Its sessions end with
// it (and so its apply lock); the change log and the live roles agree;
// pg_hba.conf is the old file or the new one; the state directory does
// not name the commit; the next run converges without repeating a change.
func TestFaultKillReconcilerMidApply(t *testing.T) {
	eachSeed(t, func(t *testing.T, rng *rand.Rand, roles int) {
		f := newFixture(t, roles, cluster.Primary.Addr, "")
		hbaBefore := f.checkFiles("before")
		c := f.commit(1)
		p := f.start("killed apply", f.args("apply", "--log-format", "json")...)
		at := f.faultPoint(rng, p)
		finished := ended(p)
		_ = p.cmd.Process.Kill()
		_, code := f.wait("killed apply", p)
		t.Logf("killed %s (exit %d, finished before the kill: %v)", at, code, finished)
		f.afterFault("after the kill", c, code == 0, false, hbaBefore) // 0: it ended before the kill
	})
}

// TestFaultServerRestartMidApply (cases F01, F05's server side): the
// primary crashes (SIGKILL of the postmaster) or is restarted (fast
// shutdown) at a random point of a large apply. The apply fails, saying
// so; after the server is back the change log and the live roles agree
// (a commit lost in the crash loses its change-log row with it), and the
// next run converges.
func TestFaultServerRestartMidApply(t *testing.T) {
	eachSeed(t, func(t *testing.T, rng *rand.Rand, roles int) {
		f := newFixture(t, roles, cluster.Primary.Addr, "")
		hbaBefore := f.checkFiles("before")
		c := f.commit(1)
		p := f.start("interrupted apply", f.args("apply")...)
		at := f.faultPoint(rng, p)
		crash := rng.IntN(2) == 0
		finished := ended(p)
		var err error
		if crash {
			err = cluster.Primary.Kill()
		} else {
			err = cluster.Primary.Stop()
		}
		if err != nil {
			t.Fatal(err)
		}
		out, code := f.wait("interrupted apply", p)
		if err := cluster.Primary.Start(); err != nil {
			t.Fatal(err)
		}
		waitServer(t)
		t.Logf("server %s %s (apply exit %d, finished before: %v)", map[bool]string{true: "crashed", false: "restarted"}[crash], at, code, finished)
		if !finished && code == 0 {
			// The apply may have sent its last statement just before.
			t.Logf("the apply succeeded although the server went down:\n%s", out)
		}
		f.failureNamesInstance(out, code)
		f.afterFault("after the server came back", c, code == 0, true, hbaBefore)
	})
}

// TestFaultNetworkDropMidApply (case F02): every connection between the
// reconciler and the primary is cut with a TCP reset at a random point of
// a large apply (through faultproxy), and new ones are refused for a
// random moment. The server rolls back what was in flight; the change
// log and the live roles agree; the next run, through the same proxy,
// converges.
func TestFaultNetworkDropMidApply(t *testing.T) {
	eachSeed(t, func(t *testing.T, rng *rand.Rand, roles int) {
		proxyIP := fmt.Sprintf("127.0.0.%d", 141+50)
		px, err := faultproxy.Start(net.JoinHostPort(proxyIP, strconv.Itoa(cluster.Port)), net.JoinHostPort(cluster.Primary.Addr, strconv.Itoa(cluster.Port)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { px.Close() })
		f := newFixture(t, roles, proxyIP, "")
		hbaBefore := f.checkFiles("before")
		c := f.commit(1)
		p := f.start("cut apply", f.args("apply")...)
		at := f.faultPoint(rng, p)
		finished := ended(p)
		refuse := time.Duration(rng.IntN(500)) * time.Millisecond
		px.SetMode(faultproxy.Refuse)
		n := px.Reset()
		time.Sleep(refuse)
		px.SetMode(faultproxy.Pass)
		out, code := f.wait("cut apply", p)
		t.Logf("cut %d connections %s, refused new ones for %s (apply exit %d, finished before: %v)", n, at, refuse, code, finished)
		if !finished && n == 0 {
			t.Errorf("the apply ran but no connection was cut: the run proves nothing")
		}
		f.failureNamesInstance(out, code)
		f.afterFault("after the cut", c, code == 0, true, hbaBefore)
	})
}
