// Package faultproxy is a TCP proxy for fault tests: it forwards
// connections to a target and, on command, cuts them. It stands between
// the reconciler and a real server (PostgreSQL, sshd) on loopback, so a
// test sees what a network drop does to the real client and the real
// server, with no mock of either.
//
// Faults, in Toxiproxy's vocabulary: Reset cuts every open connection
// with a TCP reset (SO_LINGER 0) at once; CutAfter resets every
// connection once n more bytes have gone from the clients towards the
// target (counted over all connections, so a seeded n is a reproducible
// point of a session); SetMode(Blackhole) accepts and forwards nothing
// (a silent network: the client's timeouts must fire), SetMode(Refuse)
// resets new connections at once.
//
// What it does not do: no latency, bandwidth or slicing; no UDP; it
// never looks at the bytes it forwards.
//
// What it must not import: anything of pgreconciler's (a harness).
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Mode is what the proxy does with a new connection.
type Mode int32

const (
	Pass      Mode = iota // forward
	Blackhole             // accept, forward nothing, answer nothing
	Refuse                // accept and reset at once
)

// Proxy forwards connections from its listener to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mode     atomic.Int32
	sent     atomic.Int64 // bytes forwarded from clients towards the target
	cutAt    atomic.Int64 // reset everything when sent reaches it; 0: never
	accepted atomic.Int64
	cuts     atomic.Int64 // connections reset by a fault

	mu    sync.Mutex
	conns map[*link]struct{}
	wg    sync.WaitGroup
}

// link is one proxied connection: the client's and the target's side.
type link struct {
	client, server net.Conn
	once           sync.Once
}

// reset closes both sides with a TCP reset.
func (l *link) reset() {
	l.once.Do(func() {
		for _, c := range []net.Conn{l.client, l.server} {
			if c == nil {
				continue
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	})
}

// close closes both sides (no reset): one side failed.
func (l *link) close() {
	for _, c := range []net.Conn{l.client, l.server} {
		if c != nil {
			_ = c.Close()
		}
	}
}

// Start listens on listen ("127.0.0.5:6432", or "127.0.0.1:0" for any
// port) and forwards to target.
func Start(listen, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetMode sets what happens to connections accepted from now on; open
// connections are not touched (Reset cuts them).
func (p *Proxy) SetMode(m Mode) { p.mode.Store(int32(m)) }

// Reset cuts every open connection with a TCP reset and returns how many
// it cut.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	links := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.reset()
	}
	p.cuts.Add(int64(len(links)))
	return len(links)
}

// CutAfter resets every open connection once n more bytes have been
// forwarded from the clients towards the target (n <= 0: no cut pending).
// The cut happens once; call it again for another.
func (p *Proxy) CutAfter(n int64) {
	if n <= 0 {
		p.cutAt.Store(0)
		return
	}
	p.cutAt.Store(p.sent.Load() + n)
}

// Sent is the number of bytes forwarded from clients towards the target.
func (p *Proxy) Sent() int64 { return p.sent.Load() }

// Accepted is the number of connections accepted so far.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Cuts is the number of connections a fault has reset so far.
func (p *Proxy) Cuts() int64 { return p.cuts.Load() }

// Close stops listening, resets every open connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.Reset()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.accepted.Add(1)
		l := &link{client: c}
		switch Mode(p.mode.Load()) {
		case Refuse:
			l.reset()
			p.cuts.Add(1)
			continue
		case Blackhole:
			p.track(l) // held open, never read: Reset or Close ends it
			continue
		}
		p.wg.Add(1)
		go p.forward(l)
	}
}

// track registers an open link, for Reset.
func (p *Proxy) track(l *link) {
	p.mu.Lock()
	p.conns[l] = struct{}{}
	p.mu.Unlock()
}

func (p *Proxy) untrack(l *link) {
	p.mu.Lock()
	delete(p.conns, l)
	p.mu.Unlock()
}

func (p *Proxy) forward(l *link) {
	defer p.wg.Done()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		l.reset()
		return
	}
	l.server = s
	p.track(l)
	defer p.untrack(l)
	done := make(chan struct{}, 2)
	go func() { p.pipe(l, s, l.client, true); done <- struct{}{} }()
	go func() { p.pipe(l, l.client, s, false); done <- struct{}{} }()
	<-done
	<-done
	_ = l.client.Close()
	_ = s.Close()
}

// pipe copies src to dst; upstream counts the bytes towards the target
// and fires a pending cut.
func (p *Proxy) pipe(l *link, dst, src net.Conn, upstream bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if upstream {
				if at := p.cutAt.Load(); at > 0 {
					before := p.sent.Load()
					if before+int64(n) >= at {
						// Forward what comes before the cut point, then cut.
						if k := at - before; k > 0 {
							_, _ = dst.Write(chunk[:k])
							p.sent.Add(k)
						}
						if p.cutAt.CompareAndSwap(at, 0) {
							p.Reset()
						}
						return
					}
				}
				p.sent.Add(int64(n))
			}
			if _, werr := dst.Write(chunk); werr != nil {
				l.close()
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.close() // the other direction must not wait for ever
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite() // pass a half-close on
			}
			return
		}
	}
}
