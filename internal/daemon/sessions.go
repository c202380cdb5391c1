package daemon

import (
	"context"
	"sync"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// A global cap on the PostgreSQL sessions the daemon opens (max_sessions):
// a worker takes, before it starts a reconcile, as many slots as the
// reconcile may hold sessions at once (sessionsOf), and gives them back
// when it ends. Taking them all at once, before any session opens, is
// what keeps two reconciles from each holding half of what they need and
// waiting on each other. A cluster needing more than the cap takes the
// whole cap (it runs alone). The change-log floors of a new commit are read
// one session per cluster, each taking one slot.
//
// A session a drift check keeps for the next one (keptsessions.go) holds a
// slot of its own while it idles. It never makes a reconcile wait: a
// worker that cannot get its slots has the least recently used kept
// sessions closed first (evict), and no session is kept while a worker
// waits.

// sessionsOf bounds the sessions one reconcile of c holds at once: the
// apply lock's, one per instance to inspect it (in parallel), and on the
// primary one more per managed database beside postgres (inspected, and
// kept by the apply, one database at a time each).
func sessionsOf(c *model.Cluster) int {
	return 1 + len(c.Instances) + len(c.ManagedDatabases()) - 1
}

// sessionCap hands out session slots first come, first served.
type sessionCap struct {
	mu      sync.Mutex
	limit   int // 0: no cap
	used    int
	waiting []*slotWait
	// evict, when set, closes up to n idle kept sessions, whose slots come
	// back through their releasers; it is called without mu.
	evict func(n int)
}

type slotWait struct {
	n     int
	ready chan struct{}
}

func newSessionCap(limit int) *sessionCap { return &sessionCap{limit: limit} }

// acquire takes n slots (at most the cap), waiting for them in order; it
// returns the function that gives them back, or ctx's error.
func (c *sessionCap) acquire(ctx context.Context, n int) (func(), error) {
	if c == nil || c.limit <= 0 {
		return func() {}, nil
	}
	n = min(max(n, 1), c.limit)
	c.mu.Lock()
	if len(c.waiting) == 0 && c.used+n <= c.limit {
		c.used += n
		c.mu.Unlock()
		return c.releaser(n), nil
	}
	w := &slotWait{n: n, ready: make(chan struct{})}
	c.waiting = append(c.waiting, w)
	short := c.used - c.limit
	for _, o := range c.waiting {
		short += o.n
	}
	c.mu.Unlock()
	// Every session kept before w joined the line is in evict's reach; none
	// is kept after (hold).
	if c.evict != nil && short > 0 {
		c.evict(short)
	}
	select {
	case <-w.ready:
		return c.releaser(n), nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			c.used -= n
			c.grant()
		default:
			for i, o := range c.waiting {
				if o == w {
					c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
					break
				}
			}
			c.grant() // the next waiter may fit now
		}
		return nil, ctx.Err()
	}
}

// hold takes one slot for a session kept while it idles, unless a worker
// waits for slots (a kept session never makes a reconcile wait). It may go
// beyond the cap: the session kept is one of the slots its reconcile holds
// until it ends.
func (c *sessionCap) hold() (func(), bool) {
	if c == nil || c.limit <= 0 {
		return func() {}, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiting) > 0 {
		return nil, false
	}
	c.used++
	return c.releaser(1), true
}

func (c *sessionCap) releaser(n int) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.used -= n
			c.grant()
		})
	}
}

// grant wakes the waiters at the head of the line that fit; c.mu is held.
func (c *sessionCap) grant() {
	for len(c.waiting) > 0 && c.used+c.waiting[0].n <= c.limit {
		w := c.waiting[0]
		c.waiting = c.waiting[1:]
		c.used += w.n
		close(w.ready)
	}
}
