package daemon

import (
	"fmt"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

func fleetNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("pg-app-%04d", i)
	}
	return out
}

// TestShardOfDisjointAndCovering: with 3 shards every cluster has exactly
// one owner, the three sets are disjoint and their union is the fleet, and
// no shard is starved.
func TestShardOfDisjointAndCovering(t *testing.T) {
	names := fleetNames(3000)
	var sets [3]map[string]bool
	for i := range sets {
		sets[i] = map[string]bool{}
		d := ownedOf(config.Shard{Index: i, Count: 3}, desiredOf(names))
		for _, c := range d.Clusters {
			sets[i][c.Name] = true
		}
	}
	for _, n := range names {
		owners := 0
		for i := range sets {
			if sets[i][n] {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners among 3 shards, want 1", n, owners)
		}
	}
	for i, s := range sets {
		// 1000 expected; rendezvous hashing over SHA-256 spreads evenly.
		if len(s) < 900 || len(s) > 1100 {
			t.Errorf("shard %d/3 owns %d of 3000 clusters, want about 1000", i, len(s))
		}
	}
	if d := ownedOf(config.Shard{Index: 0, Count: 1}, desiredOf(names)); len(d.Clusters) != len(names) {
		t.Errorf("shard 0/1 owns %d clusters, want every one", len(d.Clusters))
	}
}

// TestShardOfGrowMovesOnlyToNewShard: going from 3 to 4 shards moves
// exactly the clusters whose owner among 4 is the new shard 3, from
// whichever old shard had them; every other cluster keeps its owner. And
// the expected set is about a quarter of the fleet, not none.
func TestShardOfGrowMovesOnlyToNewShard(t *testing.T) {
	names := fleetNames(2000)
	moved := 0
	for _, n := range names {
		from, to := ShardOf(n, 3), ShardOf(n, 4)
		switch {
		case to == 3:
			moved++
		case from != to:
			t.Errorf("%s moved from shard %d/3 to %d/4: only moves to the new shard 3 are expected", n, from, to)
		}
	}
	if moved < 400 || moved > 600 {
		t.Errorf("%d of 2000 clusters moved to the new shard, want about 500", moved)
	}
	// And shrinking back moves exactly those again.
	for _, n := range names {
		if ShardOf(n, 4) != 3 && ShardOf(n, 3) != ShardOf(n, 4) {
			t.Errorf("%s: 4→3 moves a cluster the removed shard did not own", n)
		}
	}
}

// TestShardOfStable pins owners: the assignment must not change with a
// daemon upgrade (a changed hash would hand clusters to other replicas
// in the middle of a rollout).
func TestShardOfStable(t *testing.T) {
	pins := []struct {
		name    string
		n, want int
	}{
		{"pg-meta", 3, 0}, {"pg-meta", 4, 0}, {"pg-test", 3, 0}, {"pg-test", 4, 0},
		{"pg-e2e", 3, 0}, {"pg-e2e", 4, 3}, {"pg-app-0001", 3, 2}, {"pg-app-0001", 4, 3},
	}
	for _, p := range pins {
		if got := ShardOf(p.name, p.n); got != p.want {
			t.Errorf("ShardOf(%q, %d) = %d, pinned %d", p.name, p.n, got, p.want)
		}
	}
	if ShardOf("anything", 1) != 0 || ShardOf("anything", 0) != 0 {
		t.Error("one shard (or none) owns everything")
	}
}

func desiredOf(names []string) *model.Desired {
	d := &model.Desired{}
	for _, n := range names {
		d.Clusters = append(d.Clusters, &model.Cluster{Name: n})
	}
	return d
}
