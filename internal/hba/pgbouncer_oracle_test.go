package hba

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/bouncer"
)

// TestPgBouncerOracle checks ParsePgBouncerLine against Debian's PgBouncer
// 1.18: a line it accepts, the pooler parses; a line the pooler skips (it
// logs "could not parse hba config line N" and goes on), it refuses. Lines
// the pooler parses but reads otherwise than PostgreSQL (quotes, host bits)
// are refused too, and listed as such.
func TestPgBouncerOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and PgBouncer")
	}
	const (
		ok      = "ok"
		skipped = "skipped by PgBouncer"
		differs = "parsed otherwise by PgBouncer"
	)
	cases := []struct{ line, want string }{
		{"local    pgbouncer          postgres                              peer", ok},
		{"local    all                all                                   scram-sha-256", ok},
		{"host     all                all                127.0.0.1/32       scram-sha-256", ok},
		{"host all all ::1/128 md5", ok},
		{"hostssl all all 0.0.0.0/0 cert", ok},
		{"hostnossl all all 0.0.0.0/0 password", ok},
		{"host all all 10.0.0.0 255.0.0.0 trust", ok},
		{"host all,app a,b 0.0.0.0/0 reject", ok},
		{"host sameuser all 0.0.0.0/0 md5", ok},
		{"host all all 127.0.0.1/32 ident", skipped},
		{"local all all ident", skipped}, // PostgreSQL reads it as peer
		{"host all all all md5", skipped},
		{"host all all samehost md5", skipped},
		{"host all all samenet md5", skipped},
		{"host all all localhost md5", skipped},
		{"hostssl all all 0.0.0.0/0 cert clientcert=verify-full", skipped},
		{"host all all 0.0.0.0/0 scram-sha-256 map=x", skipped},
		{"hostgssenc all all 0.0.0.0/0 md5", skipped},
		{"host samerole all 0.0.0.0/0 md5", skipped},
		{"host replication all 0.0.0.0/0 md5", skipped},
		{"host all @users 0.0.0.0/0 md5", skipped}, // no such file
		{"host all all 0.0.0.0/0 ldap ldapurl=ldap://x", skipped},
		{"host all all 0.0.0.0/0 gss", skipped},
		{"host all all 0.0.0.0/0 pam", skipped},
		{"host all +grp 0.0.0.0/0 md5", skipped},
		{"host all all 10.1.2.3/8 md5", differs}, // never matches in PgBouncer
		{"host all all 10.1.0.0 255.0.0.0 md5", differs},
		{`host "all" "x y" 0.0.0.0/0 md5`, differs},
	}
	c := testenv.NewCluster(t, testenv.Options{Name: "pgb-oracle", Replicas: -1, BaseIP: 97})
	b := bouncer.Start(t, c, c.Primary, bouncer.Options{})
	var text strings.Builder
	for _, cs := range cases {
		text.WriteString(cs.line + "\n")
	}
	if err := b.WriteFile("pgb_hba.conf", []byte(text.String())); err != nil {
		t.Fatal(err)
	}
	before := len(b.Log())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.Signal(ctx); err != nil {
		t.Fatal(err)
	}
	skippedLines := map[int]bool{}
	for _, m := range regexp.MustCompile(`could not parse hba config line (\d+)`).FindAllStringSubmatch(b.Log()[before:], -1) {
		n, _ := strconv.Atoi(m[1])
		skippedLines[n] = true
	}
	if len(skippedLines) == 0 {
		t.Fatalf("PgBouncer reported no skipped line:\n%s", b.Log()[before:])
	}
	for i, cs := range cases {
		_, err := ParsePgBouncerLine(cs.line)
		got := ok
		switch {
		case skippedLines[i+1]:
			got = skipped
		case err != nil:
			got = differs
		}
		if got != cs.want {
			t.Errorf("%q: %s, want %s", cs.line, got, cs.want)
		}
		if skippedLines[i+1] && err == nil {
			t.Errorf("%q: accepted, but PgBouncer skips it", cs.line)
		}
		if cs.want != ok && err == nil || cs.want == ok && err != nil {
			t.Errorf("%q: ParsePgBouncerLine error %v", cs.line, fmt.Sprint(err))
		}
	}
}
