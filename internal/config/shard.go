package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Shard is the part of the fleet one daemon owns: the clusters whose name
// hashes to Index among Count shards (package daemon, shard.go). The zero
// value and 0/1 own every cluster.
type Shard struct {
	Index, Count int
}

// All reports whether the shard is the whole fleet.
func (s Shard) All() bool { return s.Count <= 1 }

func (s Shard) String() string {
	if s.Count == 0 {
		return "0/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Environment variables of `shard: auto` (a StatefulSet): the number of
// shards, and the pod's ordinal when it is not the suffix of HOSTNAME
// (the downward API's apps.kubernetes.io/pod-index label).
const (
	EnvShards     = "PGRECONCILER_SHARDS"
	EnvShardIndex = "PGRECONCILER_SHARD_INDEX"
)

// MaxShards bounds the shard count.
const MaxShards = 1024

var ordinalSuffix = regexp.MustCompile(`-([0-9]+)$`)

// ResolveShard reads the shard key: "" (every cluster), "I/N" (0 ≤ I < N),
// or "auto": N from PGRECONCILER_SHARDS and the ordinal from
// PGRECONCILER_SHARD_INDEX or else the -K suffix of HOSTNAME (a
// StatefulSet pod is NAME-K), I = K mod N. So a StatefulSet of R×N
// replicas runs R pods per shard: pods K and K+N are active and standby
// of one shard (the per-cluster apply lock decides who applies).
func ResolveShard(v string, getenv func(string) string) (Shard, error) {
	switch v {
	case "":
		return Shard{Index: 0, Count: 1}, nil
	case "auto":
		n, err := strconv.Atoi(strings.TrimSpace(getenv(EnvShards)))
		if err != nil || n < 1 || n > MaxShards {
			return Shard{}, fmt.Errorf("auto: %s=%q: want the number of shards, 1 to %d", EnvShards, getenv(EnvShards), MaxShards)
		}
		var k int
		if s := strings.TrimSpace(getenv(EnvShardIndex)); s != "" {
			if k, err = strconv.Atoi(s); err != nil || k < 0 {
				return Shard{}, fmt.Errorf("auto: %s=%q: want the pod's ordinal, 0 or more", EnvShardIndex, s)
			}
		} else {
			host := getenv("HOSTNAME")
			m := ordinalSuffix.FindStringSubmatch(host)
			if m == nil {
				return Shard{}, fmt.Errorf("auto: HOSTNAME=%q has no -ORDINAL suffix (a StatefulSet pod's) and %s is not set", host, EnvShardIndex)
			}
			if k, err = strconv.Atoi(m[1]); err != nil {
				return Shard{}, fmt.Errorf("auto: HOSTNAME=%q: ordinal out of range", host)
			}
		}
		return Shard{Index: k % n, Count: n}, nil
	}
	i, n, ok := strings.Cut(v, "/")
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%q: want I/N (e.g. 0/3) or auto", v)
	case cnt < 1 || cnt > MaxShards:
		return Shard{}, fmt.Errorf("%q: want 1 to %d shards", v, MaxShards)
	case idx < 0 || idx >= cnt:
		return Shard{}, fmt.Errorf("%q: the index is 0 to %d", v, cnt-1)
	}
	return Shard{Index: idx, Count: cnt}, nil
}
