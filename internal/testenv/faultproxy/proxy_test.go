package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// target is a real TCP server on loopback: it echoes what it reads, or,
// with sink, records it and answers nothing.
type target struct {
	ln   net.Listener
	mu   sync.Mutex
	got  bytes.Buffer
	sink bool
}

func startTarget(t *testing.T, sink bool) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln, sink: sink}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						tg.mu.Lock()
						tg.got.Write(buf[:n])
						tg.mu.Unlock()
						if !tg.sink {
							c.Write(buf[:n])
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return tg
}

func (tg *target) received() []byte {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return bytes.Clone(tg.got.Bytes())
}

func startProxy(t *testing.T, tg *target) *Proxy {
	t.Helper()
	p, err := Start("127.0.0.1:0", tg.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantCut reads from c until an error and checks it is a reset (or the
// end of the stream, when the reset raced the proxy's own close).
func wantCut(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the connection is still open 5 s after the cut")
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the cut: %v, want a reset", err)
	}
}

func TestPassForwardsBothWays(t *testing.T) {
	p := startProxy(t, startTarget(t, false))
	c := dial(t, p)
	msg := bytes.Repeat([]byte("pgreconciler "), 10000) // several reads
	go c.Write(msg)
	got := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through the proxy: %v, %d bytes equal %v", err, len(got), bytes.Equal(got, msg))
	}
	if p.Sent() != int64(len(msg)) || p.Accepted() != 1 {
		t.Errorf("sent %d accepted %d, want %d and 1", p.Sent(), p.Accepted(), len(msg))
	}
}

func TestResetCutsOpenConnections(t *testing.T) {
	p := startProxy(t, startTarget(t, false))
	a, b := dial(t, p), dial(t, p)
	for _, c := range []net.Conn{a, b} { // both forwarded before the cut
		c.Write([]byte("x"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Reset(); n != 2 {
		t.Fatalf("Reset cut %d connections, want 2", n)
	}
	wantCut(t, a)
	wantCut(t, b)
	// New connections still pass.
	c := dial(t, p)
	c.Write([]byte("y"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatalf("a connection after the cut: %v", err)
	}
	if p.Cuts() != 2 {
		t.Errorf("Cuts = %d, want 2", p.Cuts())
	}
}

func TestCutAfterForwardsExactlyNBytes(t *testing.T) {
	tg := startTarget(t, true)
	p := startProxy(t, tg)
	c := dial(t, p)
	c.Write([]byte("0123456789")) // before the cut is armed
	deadline := time.Now().Add(5 * time.Second)
	for len(tg.received()) < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.CutAfter(7)
	c.Write([]byte("abcdefghijklmnopqrstuvwxyz"))
	wantCut(t, c)
	time.Sleep(100 * time.Millisecond)
	if got := string(tg.received()); got != "0123456789abcdefg" {
		t.Errorf("the target received %q, want the 10 bytes before and 7 after the cut was armed", got)
	}
	if p.Sent() != 17 {
		t.Errorf("Sent = %d, want 17", p.Sent())
	}
}

func TestBlackholeAnswersNothing(t *testing.T) {
	tg := startTarget(t, false)
	p := startProxy(t, tg)
	p.SetMode(Blackhole)
	c := dial(t, p)
	c.Write([]byte("hello"))
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read through a blackhole: %v, want a timeout", err)
	}
	if len(tg.received()) != 0 {
		t.Error("a blackhole forwarded bytes")
	}
	p.Reset()
	wantCut(t, c)
}

func TestRefuseResetsNewConnections(t *testing.T) {
	p := startProxy(t, startTarget(t, false))
	p.SetMode(Refuse)
	// The reset may come before the client's connect returns.
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		wantCut(t, c)
		c.Close()
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("dial a refusing proxy: %v, want a reset", err)
	}
	p.SetMode(Pass)
	c := dial(t, p)
	c.Write([]byte("z"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatalf("after Pass again: %v", err)
	}
}
