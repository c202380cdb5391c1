package spec

import (
	"math/rand"
	"regexp"
	"testing"
)

// TestTextMatcherAgreesWithRegexp: the byte tables answer as the regexp
// engine does, for the schema's name patterns and shapes near them, on
// strings of the classes' bytes, their neighbours, non-ASCII text and
// invalid UTF-8; and the schema's own patterns do take the table.
func TestTextMatcherAgreesWithRegexp(t *testing.T) {
	patterns := map[string]bool{ // pattern → whether it must take the table
		`^[a-z_][a-z0-9_@.-]*$`: true, // #RoleName
		`^[A-Za-z0-9_.-]+$`:     true, // database names
		`^[A-Za-z0-9-]+$`:       true, // pg_cluster, pg_shard
		`^[a-z]*$`:              true,
		`^[a-z][a-z]+$`:         false,
		`^[a-z]+`:               false,
		`[a-z]+$`:               false,
		`^[a-zé]+$`:             false,
		`^(?i)[a-z]+$`:          false,
		`^[^a-z]+$`:             false,
		`^[a-z]+?$`:             false,
		`^ab$`:                  false,
	}
	alphabet := []string{"a", "z", "A", "Z", "0", "9", "_", "@", ".", "-", " ", "/", "`", "{", "é", "\xff", "\x00", "\n", "ab", "Ω"}
	rng := rand.New(rand.NewSource(1))
	for p, table := range patterns {
		re := regexp.MustCompile(p)
		m := newTextMatcher(re)
		if m.table != table {
			t.Errorf("%s: table %v, want %v", p, m.table, table)
		}
		for i := 0; i < 20000; i++ {
			s := ""
			for n := rng.Intn(6); n > 0; n-- {
				s += alphabet[rng.Intn(len(alphabet))]
			}
			if got, want := m.match(s), re.MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, the regexp says %v", p, s, got, want)
			}
		}
	}
}
