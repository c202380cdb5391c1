package daemon

import (
	"context"
	"sync"
)

// workQueue is a generation's queue of clusters to reconcile, first in,
// first out. It has no fixed bound and never refuses a name: a cluster is
// in it at most once (clusterState.queued), so it holds at most as many
// names as the fleet has clusters. (A channel of fixed size dropped every
// cluster past its capacity when a commit queued a bigger fleet, and those
// clusters then waited for the next drift check.)
type workQueue struct {
	mu    sync.Mutex
	names []string
	head  int
	ready chan struct{} // holds a token while names may be waiting
}

func newWorkQueue() *workQueue { return &workQueue{ready: make(chan struct{}, 1)} }

// push appends name and wakes one waiting worker.
func (q *workQueue) push(name string) {
	q.mu.Lock()
	q.names = append(q.names, name)
	q.mu.Unlock()
	q.wake()
}

func (q *workQueue) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the oldest name, waiting for one until ctx is done.
func (q *workQueue) pop(ctx context.Context) (string, bool) {
	for {
		if name, ok := q.take(); ok {
			return name, true
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-q.ready:
		}
	}
}

// take removes the oldest name, if any, and passes the wake-up on to the
// next worker while names remain.
func (q *workQueue) take() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.names) {
		return "", false
	}
	name := q.names[q.head]
	q.names[q.head] = ""
	q.head++
	switch {
	case q.head == len(q.names):
		q.names, q.head = q.names[:0], 0
	case q.head > len(q.names)/2:
		n := copy(q.names, q.names[q.head:])
		q.names, q.head = q.names[:n], 0
	}
	if q.head < len(q.names) {
		q.wake()
	}
	return name, true
}

// len is the number of names waiting.
func (q *workQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.names) - q.head
}
