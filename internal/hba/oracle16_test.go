package hba

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// oracleRegexInclude: what PostgreSQL 16 added to pg_hba.conf, against the
// server of every major. A user or database token starting with / is a
// regular expression from 16 (a plain name before): the simulator leaves a
// line that holds one undecided, and the server shows that it matters.
// include, include_if_exists and include_dir are directives from 16 (before,
// broken lines with the message Parse gives): the server reads the rules
// of the included file, with its name in file_name, which is how the plan
// sees them (internal/diff: includedRules).
func oracleRegexInclude(t *testing.T, s *oracleServer) {
	ctx := context.Background()
	if _, err := s.conn.Exec(ctx, "CREATE ROLE rx_user LOGIN"); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(filepath.Dir(s.HBAPath()), "extra_hba.conf")
	if err := os.WriteFile(extra, []byte("host all all 127.0.0.9/32 trust\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(extra) })
	text := "local all all trust\nhost all /^rx_ 127.0.0.1/32 reject\ninclude_if_exists missing_hba.conf\ninclude extra_hba.conf\n" +
		"host all all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(s.HBAPath(), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := s.conn.Query(ctx, `SELECT coalesce(line_number, 0), coalesce(type, ''), coalesce(error, ''),
		coalesce(to_jsonb(r) ->> 'file_name', '') FROM pg_hba_file_rules r`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		line              int
		typ, errMsg, file string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.line, &x.typ, &x.errMsg, &x.file)
	})
	if err != nil {
		t.Fatal(err)
	}
	lines, errs := Parse(text)
	if len(lines) != 3 || len(errs) != 2 {
		t.Fatalf("Parse: %v, %v", lines, errs)
	}
	var describe []string
	for _, r := range got {
		describe = append(describe, fmt.Sprintf("%s:%d %s %q", filepath.Base(r.file), r.line, r.typ, r.errMsg))
	}
	if s.major >= 16 {
		want := []string{"pg_hba.conf:1 local \"\"", "pg_hba.conf:2 host \"\"", "extra_hba.conf:1 host \"\"", "pg_hba.conf:5 host \"\""}
		if strings.Join(describe, ", ") != strings.Join(want, ", ") || got[2].file != extra {
			t.Errorf("PostgreSQL %d reads %v, want %v (the included file by its full name)", s.major, describe, want)
		}
	} else {
		// Before 16: two broken lines, as Parse says.
		if len(got) != 5 || got[2].errMsg != errs[0].(*ParseError).Msg || got[3].errMsg != errs[1].(*ParseError).Msg {
			t.Errorf("PostgreSQL %d reads %v; Parse says %v", s.major, describe, errs)
		}
	}

	// The regular expression: rx_user is rejected by line 2 from 16, and
	// let in by line 3 before; the simulator cannot tell.
	text = "local all all trust\nhost all /^rx_ 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 trust\n"
	s.reloadHBA(t, text)
	lines = mustParse(t, text)
	conn := Conn{Addr: netip.MustParseAddr(s.Addr), User: "rx_user", Database: "postgres"}
	if ok, by, reason := Allowed(lines, conn, nil); ok || by == nil || by.Number != 2 || !strings.Contains(reason, "cannot decide") {
		t.Errorf("simulator: %v %s; want undecided at line 2", ok, reason)
	}
	err = tryConnect(fmt.Sprintf("host=%s port=%d connect_timeout=5 user=rx_user dbname=postgres sslmode=disable", s.Addr, s.Port))
	switch {
	case s.major >= 16 && (err == nil || !strings.Contains(err.Error(), "pg_hba.conf rejects")):
		t.Errorf("PostgreSQL %d: rx_user: %v, want rejected by the regular expression", s.major, err)
	case s.major < 16 && err != nil:
		t.Errorf("PostgreSQL %d: rx_user: %v, want let in (a / token is a name)", s.major, err)
	}
}
