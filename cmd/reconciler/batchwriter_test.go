package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records what reaches it and in how many writes.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}

func (c *countingWriter) snapshot() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String(), c.writes
}

// TestBatchWriter: many lines reach the writer in a few writes, whole and
// in order; a line waits at most the delay without a Flush; Flush passes
// on everything at once.
func TestBatchWriter(t *testing.T) {
	var c countingWriter
	b := newBatchWriter(&c, time.Hour)
	var want strings.Builder
	for i := range 20000 {
		line := fmt.Sprintf("applied  pg-bench-1: + role usr_%05d\n", i)
		want.WriteString(line)
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	got, writes := c.snapshot()
	if got != want.String() {
		t.Fatal("the lines did not arrive whole and in order")
	}
	if limit := want.Len()/batchSize + 2; writes > limit {
		t.Errorf("%d lines in %d writes; want at most %d", 20000, writes, limit)
	}

	var d countingWriter
	b = newBatchWriter(&d, 300*time.Millisecond) // long enough to look before it passes
	_, _ = b.Write([]byte("one line\n"))
	if got, _ := d.snapshot(); got != "" {
		t.Fatalf("written at once: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, writes := d.snapshot(); got == "one line\n" && writes == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a line waited more than 5 s for its batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
