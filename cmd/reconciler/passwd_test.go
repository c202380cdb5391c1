package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// On a terminal, passwd asks twice without echo, and prints the verifier
// only when both answers match. The command runs on a real pseudo-terminal
// (the test binary, as `reconciler`: see TestMain); the test types only
// once echo is off, so an echoed password would show in the output.
func TestPasswdOnTerminal(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	verifier := regexp.MustCompile(`(?m)^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+\r?$`)
	for _, tc := range []struct {
		name, first, again string
		code               int
		want               string
	}{
		{name: "twice the same", first: "Correct.Horse.42", again: "Correct.Horse.42", code: 0},
		{name: "a typo", first: "Correct.Horse.42", again: "Correct.Horse.43", code: 1, want: "the passwords do not match; nothing printed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &exec.Cmd{Path: exe, Args: []string{"reconciler", "passwd", "dbuser_app"}}
			tty, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer tty.Close()
			out := &screen{}
			go out.copy(tty)
			answer := func(prompt, line string) {
				t.Helper()
				out.waitFor(t, prompt)
				waitNoEcho(t, tty)
				if _, err := io.WriteString(tty, line+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			answer("Password for dbuser_app: ", tc.first)
			answer("Enter it again: ", tc.again)
			err = cmd.Wait()
			var exit *exec.ExitError
			code := 0
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.code == 0 {
				out.waitFor(t, "SCRAM-SHA-256$")
			} else {
				out.waitFor(t, tc.want)
			}
			text := out.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, text)
			}
			if got := verifier.MatchString(text); got != (tc.code == 0) {
				t.Errorf("verifier printed: %v:\n%s", got, text)
			}
			if strings.Contains(text, "Horse") {
				t.Errorf("the password was echoed:\n%s", text)
			}
		})
	}
}

// waitNoEcho waits until the program has turned the terminal's echo off.
// On Linux the two ends of a pseudo-terminal share one termios.
func waitNoEcho(t *testing.T, tty *os.File) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("echo is still on: the password would be shown")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// screen is what the program wrote to its terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) copy(r io.Reader) {
	b := make([]byte, 1024)
	for {
		n, err := r.Read(b)
		s.mu.Lock()
		s.buf.Write(b[:n])
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal:\n%s", text, s.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
