package spec

import (
	"errors"
	"slices"
	"testing"
)

// TestReadParts pins each reason readParts refuses a split, since no
// input the fast readers accept makes a part end off its cut (the scans
// cut only at item starts): the "ended" check is otherwise untested.
func TestReadParts(t *testing.T) {
	items := [][]*node{{{}, {}}, {{}}, {{}, {}, {}}}
	parts := func(n int, read func(i int) ([]*node, bool)) ([]*node, int64, bool) {
		meters := make([]*meter, n)
		share := partShare(newMeter(&budget{limit: 1 << 20}), n)
		for i := range meters {
			meters[i] = share.meter()
			meters[i].charge(int64(10 * (i + 1)))
		}
		return readParts(meters, read)
	}

	got, cost, ok := parts(3, func(i int) ([]*node, bool) { return items[i], true })
	if want := slices.Concat(items...); !ok || !slices.Equal(got, want) || cost != 60 {
		t.Fatalf("all parts ended at their cuts: got %d items, cost %d, ok %v; want %d, 60, true", len(got), cost, ok, len(want))
	}

	for name, read := range map[string]func(i int) ([]*node, bool){
		"a part ended off its cut": func(i int) ([]*node, bool) { return items[i], i != 1 },
		"a part gave up": func(i int) ([]*node, bool) {
			if i == 2 {
				panic(fastBail{})
			}
			return items[i], true
		},
	} {
		if got, cost, ok := parts(3, read); ok || got != nil || cost != 0 {
			t.Errorf("%s: got %d items, cost %d, ok %v; want the split refused", name, len(got), cost, ok)
		}
	}

	spent := []*meter{{b: &budget{limit: 1}, private: true}, {b: &budget{limit: 1}, private: true}}
	spent[1].charge(2)
	if _, _, ok := readParts(spent, func(i int) ([]*node, bool) { return items[i], true }); ok {
		t.Error("a part out of its share: the split was accepted")
	}

	if _, _, ok := readParts([]*meter{nil, nil}, func(i int) ([]*node, bool) { return items[i], true }); !ok {
		t.Error("without a budget: the split was refused")
	}

	boom := errors.New("boom")
	defer func() {
		if r := recover(); r != boom {
			t.Errorf("a part's own panic: recovered %v, want it raised again", r)
		}
	}()
	readParts(make([]*meter, 2), func(i int) ([]*node, bool) {
		if i == 1 {
			panic(boom)
		}
		return nil, true
	})
	t.Error("a part's own panic was swallowed")
}
