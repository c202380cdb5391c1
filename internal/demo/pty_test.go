package demo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// terminal runs a command as the session leader of a new pseudo-terminal,
// the way a shell runs a job: Ctrl-C written to it reaches the foreground
// process group.
type terminal struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{} // closed when the command has exited and its output is read
	err    error         // the command's exit, valid after done
}

func startOnTerminal(t *testing.T, dir string, env []string, name string, args ...string) *terminal {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, master: master, done: make(chan struct{})}
	term.cmd = exec.Command(name, args...)
	term.cmd.Dir, term.cmd.Env = dir, env
	term.cmd.Stdin, term.cmd.Stdout, term.cmd.Stderr = slave, slave, slave
	term.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := term.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	read := make(chan struct{})
	go func() { // until every process has closed the terminal (EIO)
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(bytes.ReplaceAll(buf[:n], []byte("\r"), nil))
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		term.err = term.cmd.Wait()
		<-read
		master.Close()
		close(term.done)
	}()
	t.Cleanup(func() {
		select {
		case <-term.done:
		default:
			_ = syscall.Kill(-term.cmd.Process.Pid, syscall.SIGKILL)
			<-term.done
		}
	})
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the output contains s and returns the output.
func (term *terminal) waitFor(s string, timeout time.Duration) string {
	term.t.Helper()
	deadline := time.After(timeout)
	for {
		if out := term.output(); strings.Contains(out, s) {
			return out
		}
		select {
		case <-term.done:
			term.t.Fatalf("%s exited (%v) before printing %q:\n%s", term.cmd.Path, term.err, s, term.output())
		case <-deadline:
			term.t.Fatalf("no %q within %s:\n%s", s, timeout, term.output())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// interrupt types Ctrl-C.
func (term *terminal) interrupt() {
	term.t.Helper()
	if _, err := term.master.Write([]byte{3}); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the command to exit and returns its exit code.
func (term *terminal) wait(timeout time.Duration) int {
	term.t.Helper()
	select {
	case <-term.done:
		return exitCode(term.err)
	case <-time.After(timeout):
		term.t.Fatalf("still running %s after Ctrl-C:\n%s", timeout, term.output())
		return -1
	}
}
