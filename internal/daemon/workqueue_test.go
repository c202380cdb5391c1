package daemon

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// TestQueueHoldsWholeFleet: a commit that queues a fleet bigger than any
// fixed queue (3,000 clusters, with no worker free yet) loses none of
// them, and a cluster asked for twice is queued once.
func TestQueueHoldsWholeFleet(t *testing.T) {
	const n = 3000
	d := &Daemon{log: slog.New(slog.DiscardHandler), now: time.Now, clusters: newClusterTable()}
	g := &generation{queue: newWorkQueue()}
	for _, name := range fleetNames(n) {
		d.enqueue(g, job{cluster: name, source: "fleet", reason: "new commit", fresh: true})
		d.enqueue(g, job{cluster: name, source: "fleet", reason: "drift check"})
	}
	if got := g.queue.len(); got != n {
		t.Fatalf("queue holds %d clusters after %d were asked for (twice each), want %d", got, n, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for range n {
		name, ok := g.queue.pop(ctx)
		if !ok {
			t.Fatalf("queue empty after %d of %d clusters", len(seen), n)
		}
		if seen[name] {
			t.Fatalf("cluster %s popped twice", name)
		}
		seen[name] = true
		if j, ok := d.clusters.claim(name, d.now()); !ok || !j.fresh {
			t.Fatalf("cluster %s: claim = %+v, %v; want the fresh job", name, j, ok)
		}
	}
}

// TestQueueWorkersShareIt: names pushed while several workers wait are
// each taken by exactly one of them, and none is left behind.
func TestQueueWorkersShareIt(t *testing.T) {
	const n, workers = 5000, 8
	q := newWorkQueue()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				name, ok := q.pop(ctx)
				if !ok {
					return
				}
				mu.Lock()
				got[name]++
				done := len(got) == n
				mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	for _, name := range fleetNames(n) {
		q.push(name)
	}
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		mu.Lock()
		t.Fatalf("workers took %d of %d names", len(got), n)
	}
	wg.Wait()
	for name, k := range got {
		if k != 1 {
			t.Errorf("%s taken %d times", name, k)
		}
	}
	if q.len() != 0 {
		t.Errorf("%d names left in the queue", q.len())
	}
}
