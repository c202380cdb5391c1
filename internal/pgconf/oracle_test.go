package pgconf

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestOracle compares the package with a real PostgreSQL of the major
// under test (make test runs it on each): what pg_settings shows after a
// value is set, and what the server refuses and how it words the refusal.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	c := testenv.NewCluster(t, testenv.Options{Name: "pgconf-oracle", Replicas: -1})
	o := &oracle{srv: c.Primary, major: c.Major}
	o.connect(t)
	t.Cleanup(func() { o.conn.Close(context.Background()) })

	t.Run("keywords", o.keywords)
	t.Run("list parameters", o.listParameters)
	t.Run("session values", o.sessionValues)
	t.Run("numbers", o.numbers)
	t.Run("booleans", o.booleans)
	t.Run("enums", o.enums)
	t.Run("refusals", o.refusals)
	t.Run("accepted by the server, refused here", o.stricter)
	t.Run("list flattening", o.flattening)
	t.Run("values written with ALTER SYSTEM", o.fileValues)
	t.Run("secret parameters", o.secretParameters)
}

// secretParameters checks that the parameters MaySecret names exist and
// are plain string parameters: Validate never quotes their values.
func (o *oracle) secretParameters(t *testing.T) {
	for _, name := range []string{"primary_conninfo", "archive_command", "restore_command", "archive_cleanup_command",
		"recovery_end_command", "ssl_passphrase_command"} {
		s := o.settings[name]
		switch {
		case !MaySecret(name):
			t.Errorf("MaySecret(%s) = false", name)
		case s == nil:
			t.Errorf("%s: not a parameter of the server", name)
		case s.VarType != "string":
			t.Errorf("%s: type %s, want string", name, s.VarType)
		}
		if _, list := listParamOf(name, o.major); list {
			t.Errorf("%s: a list parameter", name)
		}
	}
}

type oracle struct {
	major    int
	srv      *testenv.Server
	conn     *pgx.Conn
	settings map[string]*model.LiveSetting // by lowercase name
}

// connect (re)opens the superuser session and reads pg_settings.
func (o *oracle) connect(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if o.conn != nil {
		o.conn.Close(ctx)
	}
	conn, err := o.srv.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.conn = conn
	rows, err := conn.Query(ctx, `SELECT name, setting, coalesce(unit, ''), context, vartype,
		coalesce(enumvals, '{}'), coalesce(min_val, ''), coalesce(max_val, ''), coalesce(boot_val, ''),
		current_setting('server_version_num')::int FROM pg_settings`)
	if err != nil {
		t.Fatal(err)
	}
	o.settings = map[string]*model.LiveSetting{}
	for rows.Next() {
		s := &model.LiveSetting{}
		if err := rows.Scan(&s.Name, &s.Setting, &s.Unit, &s.Context, &s.VarType,
			&s.EnumVals, &s.MinVal, &s.MaxVal, &s.BootVal, &s.Version); err != nil {
			t.Fatal(err)
		}
		o.settings[strings.ToLower(s.Name)] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func (o *oracle) setting(t *testing.T, name string) *model.LiveSetting {
	t.Helper()
	s := o.settings[strings.ToLower(name)]
	if s == nil {
		t.Fatalf("no parameter %s", name)
	}
	return s
}

// sessionSet sets a parameter for one rolled-back transaction and returns
// what pg_settings shows.
func (o *oracle) sessionSet(t *testing.T, name, value string) (string, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := o.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT set_config($1, $2, true)", name, value); err != nil {
		return "", err
	}
	var shown string
	if err := tx.QueryRow(ctx, "SELECT setting FROM pg_settings WHERE name = $1", name).Scan(&shown); err != nil {
		t.Fatal(err)
	}
	return shown, nil
}

// alterSystem runs ALTER SYSTEM SET name = sqlValue.
func (o *oracle) alterSystem(name, sqlValue string) error {
	_, err := o.conn.Exec(context.Background(), "ALTER SYSTEM SET "+pgx.Identifier{name}.Sanitize()+" = "+sqlValue)
	return err
}

func (o *oracle) exec(t *testing.T, sql string) {
	t.Helper()
	if _, err := o.conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// fileSetting is what ALTER SYSTEM wrote for name (pg_file_settings), or
// "<none>".
func (o *oracle) fileSetting(t *testing.T, name string) string {
	t.Helper()
	var v string
	err := o.conn.QueryRow(context.Background(), `SELECT coalesce(setting, '<null>') FROM pg_file_settings
		WHERE name = lower($1) AND sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compare checks Normalize against the server's outcome for one value:
// the same display when both accept, the same wording when both refuse.
func compare(t *testing.T, s *model.LiveSetting, value, shown string, serverErr error) {
	t.Helper()
	got, err := Normalize(value, s)
	switch {
	case err == nil && serverErr == nil:
		if got != shown {
			t.Errorf("%s = %q: Normalize gives %q, pg_settings shows %q", s.Name, value, got, shown)
		}
	case err == nil:
		t.Errorf("%s = %q: Normalize gives %q, the server refuses: %v", s.Name, value, got, serverErr)
	case serverErr == nil:
		t.Errorf("%s = %q: Normalize refuses (%v), the server shows %q", s.Name, value, err, shown)
	default:
		sameRefusal(t, s.Name, value, err, serverErr)
	}
}

// sameRefusal checks our error has the server's message and hint (and
// detail, when ours has one).
func sameRefusal(t *testing.T, name, value string, ours, theirs error) {
	t.Helper()
	var e *Error
	var pgErr *pgconn.PgError
	if !errors.As(ours, &e) || !errors.As(theirs, &pgErr) {
		t.Errorf("%s = %q: errors %v / %v are not *Error / *pgconn.PgError", name, value, ours, theirs)
		return
	}
	if e.Message != pgErr.Message || e.Hint != pgErr.Hint || e.Detail != "" && e.Detail != pgErr.Detail {
		t.Errorf("%s = %q refused as\n\t%q / %q / %q\nserver:\n\t%q / %q / %q", name, value,
			e.Message, e.Detail, e.Hint, pgErr.Message, pgErr.Detail, pgErr.Hint)
	}
}

func (o *oracle) keywords(t *testing.T) {
	rows, err := o.conn.Query(context.Background(), "SELECT word, quote_ident(word) FROM pg_get_keywords()")
	if err != nil {
		t.Fatal(err)
	}
	words, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Word, Quoted string }])
	if err != nil {
		t.Fatal(err)
	}
	more := []string{"$user", "Mixed", `a"b`, "über", "x y", "_x", "1a", "a$1", "", "public", "name"}
	for _, w := range more {
		var q string
		if err := o.conn.QueryRow(context.Background(), "SELECT quote_ident($1)", w).Scan(&q); err != nil {
			t.Fatal(err)
		}
		words = append(words, struct{ Word, Quoted string }{w, q})
	}
	for _, w := range words {
		if got := quoteIdent(w.Word, o.major); got != w.Quoted {
			t.Errorf("quoteIdent(%q) = %s, quote_ident() = %s", w.Word, got, w.Quoted)
		}
	}
}

// listParameters finds the GUC_LIST_QUOTE parameters the way they show:
// ALTER SYSTEM SET x = 'A', 'B' stores "A", "B" for them only.
func (o *oracle) listParameters(t *testing.T) {
	var names []string
	for _, s := range o.settings {
		if s.VarType == "string" && s.Context != ctxInternal {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		err := o.alterSystem(name, "'A', 'B'")
		quoted := err == nil && o.fileSetting(t, name) == `"A", "B"` ||
			err != nil && strings.Contains(err.Error(), `"\"A\", \"B\""`)
		if err == nil {
			o.exec(t, "ALTER SYSTEM RESET "+pgx.Identifier{name}.Sanitize())
		}
		if _, ours := listParamOf(name, o.major); ours != quoted {
			t.Errorf("%s: GUC_LIST_QUOTE here %v, on the server %v (ALTER SYSTEM: %v)", name, ours, quoted, err)
		}
	}
}
