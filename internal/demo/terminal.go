package demo

import (
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// TakeTerminal puts the calling process in a process group of its own and
// makes that group the terminal's foreground group, so that Ctrl-C sends
// SIGINT to the demo (and the commands it is running) alone. Otherwise make
// and go run, in the same group, get it too: make dies of it and reports
// "Interrupt" (exit 130) even when the demo stopped everything and exited 0.
// It ignores SIGTTOU, so that giving the terminal back works, and SIGTSTP,
// since the shell would not see a Ctrl-Z of a group it did not start.
//
// restore hands the terminal back to the group the process came from; call
// it before exiting. Without a controlling terminal, or when started in the
// background, TakeTerminal does nothing.
func TakeTerminal() (restore func(), err error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return func() {}, nil // no controlling terminal: nobody types Ctrl-C
	}
	fd := int(tty.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		tty.Close()
		return func() {}, nil // in the background: leave the terminal alone
	}
	signal.Ignore(unix.SIGTTOU, unix.SIGTSTP)
	if err := unix.Setpgid(0, 0); err != nil {
		tty.Close()
		return nil, fmt.Errorf("take the terminal: setpgid: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		_ = unix.Setpgid(0, fg)
		tty.Close()
		return nil, fmt.Errorf("take the terminal: tcsetpgrp: %w", err)
	}
	return func() {
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg)
		tty.Close()
	}, nil
}
