package daemon

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Sharding: a daemon started with --shard I/N (or shard: auto on a
// StatefulSet) owns the clusters whose name hashes to shard I. Every
// replica reads and verifies the same sources and the whole spec; each
// keeps only its own clusters in its revisions, so it plans, applies,
// reads change logs of, and exports metrics for nothing else. Two
// replicas of one shard are active and standby through the per-cluster
// apply lock (package apply): whichever holds it applies, the other
// reports busy.

// ShardOf is the shard, among n, that owns the cluster called name:
// rendezvous (highest random weight) hashing. Every shard scores the name
// and the highest score wins, so going from n to n+1 shards moves only the
// clusters whose winner is the new shard n, about 1/(n+1) of them, and
// none between old shards. Pure, and stable across versions and machines
// (SHA-256, not Go's randomized map hash): the owner of a cluster must not
// change with a daemon upgrade.
func ShardOf(name string, n int) int {
	if n <= 1 {
		return 0
	}
	best, bestScore := 0, uint64(0)
	buf := make([]byte, 0, len(name)+8)
	for i := 0; i < n; i++ {
		buf = append(buf[:0], name...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, int64(i), 10)
		sum := sha256.Sum256(buf)
		if score := binary.BigEndian.Uint64(sum[:8]); i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// owns reports whether shard s owns the cluster called name.
func owns(s config.Shard, name string) bool {
	return s.All() || ShardOf(name, s.Count) == s.Index
}

// ownedOf is the part of a commit's clusters that shard s owns (d itself
// when s is the whole fleet). The spec was validated whole before.
func ownedOf(s config.Shard, d *model.Desired) *model.Desired {
	if s.All() {
		return d
	}
	out := &model.Desired{}
	for _, c := range d.Clusters {
		if owns(s, c.Name) {
			out.Clusters = append(out.Clusters, c)
		}
	}
	return out
}

// ShardStatus is what /status shows of the daemon's shard: which it is,
// and the clusters it owns and skips in the revisions it follows.
type ShardStatus struct {
	Index   int      `json:"index"`
	Count   int      `json:"count"`
	Owned   []string `json:"owned"`
	Skipped int      `json:"skipped"` // clusters of the spec that other shards own
}

// shardStatus lists the owned clusters of every source's good revision;
// nil when the daemon owns the whole fleet.
func (d *Daemon) shardStatus() *ShardStatus {
	s := d.shard
	if s.All() {
		return nil
	}
	out := &ShardStatus{Index: s.Index, Count: max(s.Count, 1), Owned: []string{}}
	for _, st := range d.sourceList() {
		st.mu.Lock()
		rev := st.good
		st.mu.Unlock()
		if rev == nil {
			continue
		}
		for _, c := range rev.desired.Clusters {
			out.Owned = append(out.Owned, c.Name)
		}
		out.Skipped += rev.total - len(rev.desired.Clusters)
	}
	return out
}

// verifiedAttrs are the shard's and the re-plan's fields of the "new
// commit verified" line, there only when they say something: the shard
// and the spec's cluster count when sharded, the unchanged clusters when
// some are.
func verifiedAttrs(s config.Shard, total, unchanged, floors int) []any {
	var out []any
	if !s.All() {
		out = append(out, "shard", s.String(), "spec_clusters", total)
	}
	if unchanged > 0 {
		out = append(out, "unchanged", unchanged)
	}
	return append(out, "change_log_floors", floors)
}
