package spec

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// An integer that does not fit an int is reported, never clamped (the
// schema bounds every integer field, so this is the last line of defence).
func TestDecodeIntegerOverflow(t *testing.T) {
	cs := &clusterSrc{}
	n := newScalar(kindInt, "99999999999999999999", placeOf(Pos{File: "a.cue", Line: 3, Col: 7}))
	if v := cs.optInt(n); v != nil {
		t.Errorf("optInt = %d, want nil", *v)
	}
	if len(cs.problems) != 1 || cs.problems[0].Pos != n.pos() || !strings.Contains(cs.problems[0].Message, "out of range") {
		t.Errorf("problems = %v, want one at %s", cs.problems, n.pos())
	}
	if v := cs.optInt(newScalar(kindInt, "-1", place{})); v == nil || *v != -1 {
		t.Errorf("optInt(-1) = %v", v)
	}
}

// TestRoleFieldsAreLookups: the one-pass read of a role entry finds what a
// lookup of each field would (the first of a repeated key, nothing for an
// absent one), whatever the order of the keys.
func TestRoleFieldsAreLookups(t *testing.T) {
	keys := map[string]func(r *roleFields) *node{
		"name": func(r *roleFields) *node { return r.name }, "password": func(r *roleFields) *node { return r.password },
		"state": func(r *roleFields) *node { return r.state }, "comment": func(r *roleFields) *node { return r.comment },
		"roles": func(r *roleFields) *node { return r.roles }, "parameters": func(r *roleFields) *node { return r.parameters },
		"login": func(r *roleFields) *node { return r.login }, "superuser": func(r *roleFields) *node { return r.superuser },
		"createdb": func(r *roleFields) *node { return r.createdb }, "createrole": func(r *roleFields) *node { return r.createrole },
		"inherit": func(r *roleFields) *node { return r.inherit }, "replication": func(r *roleFields) *node { return r.replication },
		"bypassrls": func(r *roleFields) *node { return r.bypassrls }, "connlimit": func(r *roleFields) *node { return r.connlimit },
		"expire_in": func(r *roleFields) *node { return r.expireIn }, "expire_at": func(r *roleFields) *node { return r.expireAt },
		"pgbouncer": func(r *roleFields) *node { return r.pgbouncer }, "pool_mode": func(r *roleFields) *node { return r.poolMode },
		"pool_connlimit": func(r *roleFields) *node { return r.poolConnLimit },
	}
	names := slices.Sorted(maps.Keys(keys))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		// A random subset of the keys in a random order, some repeated,
		// with keys decodeRole does not read among them.
		var fs []field
		for _, k := range append(slices.Clone(names), "bogus", "Name", "name ") {
			for range rng.IntN(3) - rng.IntN(2) {
				fs = append(fs, field{key: k, value: &node{kind: kindNull, line: int32(len(fs))}})
			}
		}
		rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		n := newMap(place{}, fs)
		got := roleFieldsOf(n)
		for _, k := range names {
			if want := n.get(k); keys[k](&got) != want {
				t.Fatalf("keys %v: field %s is %p, get finds %p", keysOf(fs), k, keys[k](&got), want)
			}
		}
	}
}

func keysOf(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// TestCheckRaisesMembershipPanics: the membership checks run on a
// goroutine of their own (check); a panic there is raised on check's
// caller's goroutine, where a recover of the caller sees it, instead of
// ending the process.
func TestCheckRaisesMembershipPanics(t *testing.T) {
	schema, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	src := "all:\n  children:\n    pg-a:\n      hosts: {127.0.0.1: {pg_seq: 1, pg_role: primary}}\n" +
		"      vars:\n        pg_cluster: pg-a\n        pg_users: [{name: g}, {name: u, roles: [g]}]\n"
	root, problems := readYAML("pigsty.yml", []byte(src), nil)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	inv := readInventory(root, schema.defaults, schema.vars)
	decls, _ := inv.clusters()
	cs := resolveCluster(inv, decls[0])
	// Role u's model lists a membership its node no longer has: the
	// membership check indexes the node's roles list out of range.
	u := slices.IndexFunc(cs.c.Roles, func(r *model.Role) bool { return r.Name == "u" })
	cs.roles[u] = newMap(place{}, []field{{key: "name", value: newScalar(kindString, "u", place{})}})
	defer func() {
		if recover() == nil {
			t.Error("check returned; want the membership check's panic")
		}
	}()
	cs.check()
}
