package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// runPasswd prints the SCRAM-SHA-256 verifier of a password read on stdin,
// so that a spec never needs to hold plaintext.
func runPasswd(e *env, args []string) int {
	fs := newFlags(e, "passwd", "passwd [--md5] USER   (the password is read from the terminal, twice, or one line of stdin)")
	md5 := fs.Bool("md5", false, "print an md5 hash instead (only for clusters with pg_pwd_enc: md5)")
	if code, ok := parseFlagsArgs(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	user := fs.Arg(0)
	var pw string
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// Typed blind: asked twice, as passwd(1) and psql's \password do.
		first, err := readSecret(e, f, fmt.Sprintf("Password for %s: ", user))
		if err != nil {
			return errorf(e, "passwd", "read password: %v", err)
		}
		if first == "" {
			return errorf(e, "passwd", "empty password")
		}
		again, err := readSecret(e, f, "Enter it again: ")
		if err != nil {
			return errorf(e, "passwd", "read password: %v", err)
		}
		if again != first {
			return errorf(e, "passwd", "the passwords do not match; nothing printed")
		}
		pw = first
	} else {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errorf(e, "passwd", "read password from stdin: %v", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return errorf(e, "passwd", "empty password")
	}
	if *md5 {
		fmt.Fprintln(e.stdout, scram.MD5(pw, user))
		return exitOK
	}
	v, err := scram.New(pw, rand.Reader)
	if err != nil {
		return errorf(e, "passwd", "%v", err)
	}
	fmt.Fprintln(e.stdout, v)
	return exitOK
}

// readSecret prompts on stderr and reads a line from the terminal without
// echo.
func readSecret(e *env, tty *os.File, prompt string) (string, error) {
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(e.stderr)
	return string(b), err
}
