package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one process run: wall time and peak resident set size.
type sample struct {
	Wall   time.Duration
	MaxRSS int64 // bytes
	CPU    time.Duration
}

// timeBin is GNU time, through which children run when it exists: the
// ru_maxrss wait4 reports for a child of this process includes the
// high-water mark of the memory it was forked from (Linux keeps it across
// execve, and Go forks with CLONE_VM), which is this harness's, often
// larger than the child's. GNU time is small: what it reports is the
// child's own.
const timeBin = "/usr/bin/time"

// runProc runs argv with env added to this process's, and returns its
// figures; want is the exit codes that count as success.
func runProc(ctx context.Context, env []string, want []int, argv ...string) (sample, []byte, error) {
	var rssFile string
	if _, err := os.Stat(timeBin); err == nil {
		f, err := os.CreateTemp("", "bench-rss-")
		if err != nil {
			return sample{}, nil, err
		}
		f.Close()
		defer os.Remove(f.Name())
		rssFile = f.Name()
		argv = append([]string{timeBin, "-q", "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return sample{}, nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	code := cmd.ProcessState.ExitCode()
	ok := false
	for _, w := range want {
		ok = ok || code == w
	}
	if !ok {
		tail := errb.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return sample{}, out.Bytes(), fmt.Errorf("%v: exit %d, want %v: %s", argv, code, want, tail)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	x := sample{
		Wall:   wall,
		MaxRSS: ru.Maxrss * 1024, // KiB on Linux
		CPU:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
	if rssFile != "" {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return sample{}, nil, err
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return sample{}, nil, fmt.Errorf("%s wrote no figure", timeBin)
		}
		kb, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			return sample{}, nil, fmt.Errorf("%s: %q: %w", timeBin, b, err)
		}
		x.MaxRSS = kb * 1024
	}
	return x, out.Bytes(), nil
}

// stats is a scenario's figures over its runs: the median and the range.
type stats struct {
	runs []sample
}

func (s *stats) add(x sample) { s.runs = append(s.runs, x) }

func (s *stats) median(f func(sample) float64) float64 {
	v := make([]float64, len(s.runs))
	for i, r := range s.runs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s *stats) wall() float64 { return s.median(func(x sample) float64 { return x.Wall.Seconds() }) }
func (s *stats) rss() float64 {
	return s.median(func(x sample) float64 { return float64(x.MaxRSS) / (1 << 20) })
}
func (s *stats) cpu() float64 { return s.median(func(x sample) float64 { return x.CPU.Seconds() }) }

func (s *stats) rangeOf(f func(sample) float64) (lo, hi float64) {
	for i, r := range s.runs {
		v := f(r)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}
