package main

import (
	"io"
	"sync"
	"time"
)

// batchWriter gathers writes and passes them on at most every delay (or
// when batchSize bytes are waiting), so that an apply's one line per
// change, on stdout and on stderr, costs a write(2) per batch instead of
// one per line: 40,000 of them for 20,000 changes, each also a wakeup of
// whatever reads the pipe. A person watching sees the lines at most delay
// late; Flush passes on what is waiting, and the command flushes before
// it returns. Safe for concurrent use; each Write stays whole.
type batchWriter struct {
	w     io.Writer
	delay time.Duration

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer
	err   error
}

const batchSize = 64 << 10

func newBatchWriter(w io.Writer, delay time.Duration) *batchWriter {
	return &batchWriter{w: w, delay: delay}
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	switch {
	case len(b.buf) >= batchSize:
		b.flushLocked()
	case b.timer == nil:
		b.timer = time.AfterFunc(b.delay, func() { _ = b.Flush() })
	}
	return len(p), nil
}

// Flush passes on what is waiting.
func (b *batchWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

func (b *batchWriter) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.buf) == 0 || b.err != nil {
		return
	}
	_, b.err = b.w.Write(b.buf)
	b.buf = b.buf[:0]
}
