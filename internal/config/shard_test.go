package config

import (
	"strings"
	"testing"
)

func TestResolveShard(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		v    string
		env  map[string]string
		want Shard
		err  string
	}{
		{v: "", want: Shard{0, 1}},
		{v: "2/3", want: Shard{2, 3}},
		{v: "0/1", want: Shard{0, 1}},
		{v: "3/3", err: "the index is 0 to 2"},
		{v: "-1/3", err: "the index is 0 to 2"},
		{v: "1/0", err: "want 1 to 1024 shards"},
		{v: "1", err: "want I/N"},
		{v: "a/b", err: "want I/N"},
		// A StatefulSet pod: the ordinal is HOSTNAME's suffix, mod the shard
		// count (pods 1 and 4 of 6 replicas over 3 shards share shard 1).
		{v: "auto", env: map[string]string{"PGRECONCILER_SHARDS": "3", "HOSTNAME": "pgreconciler-1"}, want: Shard{1, 3}},
		{v: "auto", env: map[string]string{"PGRECONCILER_SHARDS": "3", "HOSTNAME": "pgreconciler-4"}, want: Shard{1, 3}},
		{v: "auto", env: map[string]string{"PGRECONCILER_SHARDS": "3", "HOSTNAME": "x", "PGRECONCILER_SHARD_INDEX": "2"}, want: Shard{2, 3}},
		{v: "auto", env: map[string]string{"PGRECONCILER_SHARDS": "3", "HOSTNAME": "pgreconciler"}, err: "no -ORDINAL suffix"},
		{v: "auto", env: map[string]string{"HOSTNAME": "pgreconciler-0"}, err: "PGRECONCILER_SHARDS"},
		{v: "auto", env: map[string]string{"PGRECONCILER_SHARDS": "3", "PGRECONCILER_SHARD_INDEX": "-2"}, err: "PGRECONCILER_SHARD_INDEX"},
	} {
		got, err := ResolveShard(c.v, env(c.env))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q %v: error %v, want one saying %q", c.v, c.env, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q %v: %v %v, want %v", c.v, c.env, got, err, c.want)
		}
	}
}

// TestShardProblem: a bad shard key is a problem at its line.
func TestShardProblem(t *testing.T) {
	c, err := Decode("r.yml", []byte("shard: 3/3\nsources: [{name: a, url: /srv/a}]\ntrust: {allowed_signers: /x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if got := c.Problems().Err(); got == nil || !strings.Contains(got.Error(), "r.yml:1") || !strings.Contains(got.Error(), "shard:") {
		t.Errorf("problems: %v, want one for shard at r.yml:1", got)
	}
}
