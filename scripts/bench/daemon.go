package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemonSteadyState runs `reconciler run` on one cluster of s (a signed
// commit of the YAML spec in a local repository, drift_interval 1s, every
// class in apply mode) until it has finished cycles drift cycles, and
// prints its resident set size and CPU time per cycle: the first cycles
// (the spec loaded, the first apply), then windows of the steady state.
func (b *bench) daemonSteadyState(ctx context.Context, dir string, t target, s size, cycles int) error {
	d := filepath.Join(dir, "daemon-"+s.Name)
	repo := filepath.Join(d, "repo")
	if _, err := writeYAML(repo, t, s); err != nil {
		return err
	}
	key := filepath.Join(d, "signing_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return err
	}
	signers := filepath.Join(d, "allowed_signers")
	if err := os.WriteFile(signers, []byte("bench@example.com "+string(pub)), 0o644); err != nil {
		return err
	}
	git := func(args ...string) error {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
			"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key, "-c", "commit.gpgsign=true", "-c", "init.defaultBranch=main"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
		return nil
	}
	// The YAML lives in yaml/: the spec root is the repository's.
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "bench spec"}} {
		if err := git(args...); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	conf := filepath.Join(d, "reconciler.yml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`listen: %q
state_dir: %q
drift_interval: 1s
log_format: json
sources: [{name: bench, url: %q, path: yaml, poll_interval: 1h}]
trust: {allowed_signers: %q}
connection: {user: %s, sslmode: verify-full, sslrootcert: %q}
hba: {writer: local}
`, addr, filepath.Join(d, "state"), repo, signers, b.cluster.SuperUser, b.cluster.CACertFile)), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(d, "daemon.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, b.bin, "run", "--config", conf)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+b.cluster.SuperPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid

	fmt.Fprintf(b.out, "\n## daemon steady state: %d roles, %d memberships, drift_interval 1s, %d cycles\n\n", s.roles(), s.memberships(), cycles)
	fmt.Fprintln(b.out, "| cycles | RSS at the end | peak RSS so far | CPU per cycle (mean over the window) |")
	fmt.Fprintln(b.out, "|---|---:|---:|---:|")
	deadline := time.Now().Add(time.Duration(cycles)*3*time.Second + 2*time.Minute)
	var marks []int
	for _, c := range []int{1, 10, 100} {
		if c < cycles {
			marks = append(marks, c)
		}
	}
	for c := 250; c < cycles; c += 250 {
		marks = append(marks, c)
	}
	marks = append(marks, cycles)
	last, lastCPU := 0, time.Duration(0)
	for len(marks) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon: %d cycles of %d before the deadline (see %s)", last, cycles, logf.Name())
		}
		time.Sleep(100 * time.Millisecond)
		done, err := scrapeCycles("http://" + addr + "/metrics")
		if err != nil || done < marks[0] {
			continue
		}
		for len(marks) > 0 && marks[0] <= done {
			marks = marks[1:]
		}
		rss, peak, cpu, err := procFigures(pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "| %d | %.1f MiB | %.1f MiB | %.1f ms |\n", done, float64(rss)/(1<<20), float64(peak)/(1<<20),
			float64((cpu-lastCPU).Microseconds())/1000/float64(max(1, done-last)))
		last, lastCPU = done, cpu
	}
	return nil
}

// scrapeCycles is the sum of pgreconciler_reconcile_total: the cycles
// finished.
func scrapeCycles(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "pgreconciler_reconcile_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return int(sum), sc.Err()
}

// procFigures reads a process's resident set (VmRSS), its peak (VmHWM)
// and its CPU time (utime + stime) from /proc.
func procFigures(pid int) (rss, peak int64, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			peak = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	// Fields after the command name, which is in parentheses.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	st, _ := strconv.ParseInt(rest[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return rss, peak, time.Duration(ut+st) * time.Second / hz, nil
}
