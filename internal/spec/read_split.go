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
// whole is charged to the load's budget once the parts are done. Without
// a meter (nil), parts have none either.
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
	p := &partMeter{meter: meter{b: &budget{limit: s.limit}, private: true}}
	return &p.meter
}

// partMeter keeps a part's meter off the cache lines of the others'. The
// parts charge theirs at every node, from different cores, and meters made
// one after another can share a line: in one profile of validate, charge
// took 5.2% of the CPU, stalled on loads of the meter; padded, 2.3%.
type partMeter struct {
	meter
	_ [64]byte
}

// cost is what m charged for data trees (0 without a meter).
func (m *meter) cost() int64 {
	if m == nil {
		return 0
	}
	return m.persistent
}

// readParts reads the parts of a split sequence or list at once, part 0
// on this goroutine: read(i) returns part i's items and whether it ended
// where it must (at its cut, or for the last part at the end of the
// sequence); meters are the parts' meters (nil entries without a budget).
// ok is false when a part gave up (a fastBail), ended elsewhere or ran out
// of its share: the caller then reads the whole sequence serially. Else
// items are all the parts' items in order and cost what they charged. Any
// panic other than a fastBail is raised again here.
func readParts(meters []*meter, read func(i int) ([]*node, bool)) (items []*node, cost int64, ok bool) {
	n := len(meters)
	results := make([][]*node, n)
	ended := make([]bool, n)
	fails := make([]any, n) // what each part panicked with
	one := func(i int) {
		defer func() { fails[i] = recover() }()
		results[i], ended[i] = read(i)
	}
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); one(i) }()
	}
	one(0)
	wg.Wait()
	ok = true
	for i, r := range fails {
		if r != nil {
			if _, bail := r.(fastBail); !bail {
				panic(r)
			}
		}
		ok = ok && ended[i] && !meters[i].spent() // a part that gave up did not set ended
		cost += meters[i].cost()
	}
	if !ok {
		return nil, 0, false
	}
	count := 0
	for _, r := range results {
		count += len(r)
	}
	items = make([]*node, 0, count)
	for _, r := range results {
		items = append(items, r...)
	}
	return items, cost, true
}
