package spec

import (
	"runtime"
	"sync"
)

// What the split readers of big sequences and lists share (YAML:
// read_yamlsplit.go, CUE: read_cuesplit.go).

// splitting tunes the split of big block sequences (YAML) and lists (CUE).
type splitting struct {
	minBytes int // shorter sequences are read serially
	parts    int // at most this many parts (≤ 1: never split)
}

// defaultSplit: a sequence or list of 256 KiB (about a thousand roles) or more is
// read on every core, up to 8.
func defaultSplit() splitting {
	return splitting{minBytes: 256 << 10, parts: min(runtime.GOMAXPROCS(0), 8)}
}

// share is one part's share of a load's budget: each part has a budget
// of its own, an equal share of what the load's has left, so that parts
// read at once do not contend for one counter (that cost 8% of a read in
// cache-line traffic) and need no atomic add per node (another 5%); the
// whole is charged to the load's budget once the parts are done. Without a meter (nil), parts have none either.
type share struct {
	limit int64
	on    bool
}

func partShare(m *meter, parts int) share {
	if m == nil {
		return share{}
	}
	return share{limit: (m.b.limit - m.b.used.Load()) / int64(parts), on: true}
}

func (s share) meter() *meter {
	if !s.on {
		return nil
	}
	return &meter{b: &budget{limit: s.limit}, private: true}
}

// cost is what m charged for data trees (0 without a meter).
func (m *meter) cost() int64 {
	if m == nil {
		return 0
	}
	return m.persistent
}

// readParts reads parts 0 to n-1 at once (read(i)), part 0 on this
// goroutine. ok is false when a part gave up (a fastBail); any other
// panic is raised again here.
func readParts(n int, read func(i int) []*node) (results [][]*node, ok bool) {
	results = make([][]*node, n)
	fails := make([]any, n) // what each part panicked with
	one := func(i int) {
		defer func() { fails[i] = recover() }()
		results[i] = read(i)
	}
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); one(i) }()
	}
	one(0)
	wg.Wait()
	ok = true
	for _, r := range fails {
		if r != nil {
			if _, bail := r.(fastBail); !bail {
				panic(r)
			}
			ok = false
		}
	}
	return results, ok
}

// concatItems is the parts' items in order, in one exact-size slice.
func concatItems(results [][]*node) []*node {
	n := 0
	for _, r := range results {
		n += len(r)
	}
	items := make([]*node, 0, n)
	for _, r := range results {
		items = append(items, r...)
	}
	return items
}
