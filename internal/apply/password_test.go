package apply_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

var md5Hash = regexp.MustCompile(`md5[0-9a-f]{32}`)

func passwordChange(role, sql, password, encryption string) plan.Change {
	c := change(plan.KindPassword, plan.ActionChange, role, plan.Statement{SQL: sql, Password: model.NewSecret(password),
		PasswordRole: role, PasswordEncryption: encryption})
	c.Password = &plan.PasswordChange{Role: role, Password: model.NewSecret(password), Encryption: encryption}
	return c
}

func alterPassword(role string) string {
	return "ALTER ROLE " + ident(role) + " PASSWORD " + plan.PasswordPlaceholder
}

// TestPasswordsNeverLeak (case X01, docs/promises.md): with log_statement = all,
// log_min_duration_statement = 0 and pg_stat_statements tracking utility
// statements (the harness's settings), create and rotate passwords given
// as plaintext, md5 and SCRAM verifier, and make two password statements
// fail (a missing role, and a syntax error whose message would quote the
// verifier). Neither a plaintext nor a hash, nor a part of one, may then
// appear in the server logs, pg_stat_statements, the apply's log, the
// outcomes or the change log.
func TestPasswordsNeverLeak(t *testing.T) {
	f := newFixture(t)
	exec(t, "postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "SELECT pg_stat_statements_reset()",
		"CREATE ROLE pgss_witness") // proves that utility statements are tracked
	pw := make([]string, 6)
	for i := range pw {
		pw[i] = "pw-" + rand.Text()
	}
	verifier, err := scram.New(pw[4], rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// The syntax error's statement carries a known verifier, so that the
	// search below knows what PostgreSQL's message would have quoted.
	verifier5, err := scram.New(pw[5], rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	res := f.apply(
		createRole("leaky", "LOGIN"),
		createRole("leaky_md5", "LOGIN"),
		createRole("leaky_scram", "LOGIN"),
		passwordChange("leaky", alterPassword("leaky"), pw[0], "scram-sha-256"),
		passwordChange("leaky", alterPassword("leaky"), pw[1], "scram-sha-256"), // rotation
		passwordChange("no_such_role", alterPassword("no_such_role"), pw[2], "scram-sha-256"),
		passwordChange("leaky_md5", alterPassword("leaky_md5"), pw[3], "md5"),
		passwordChange("leaky_scram", alterPassword("leaky_scram"), verifier, ""),
		passwordChange("leaky", "ALTER ROLE leaky WITH "+plan.PasswordPlaceholder, verifier5, ""),
	)
	want := []plan.Status{plan.StatusApplied, plan.StatusApplied, plan.StatusApplied, plan.StatusApplied,
		plan.StatusApplied, plan.StatusFailed, plan.StatusApplied, plan.StatusApplied, plan.StatusFailed}
	for i, o := range res.Outcomes {
		if o.Status != want[i] {
			t.Errorf("change %d (%s): %s %q, want %s", i, o.Change.Object, o.Status, o.Error, want[i])
		}
	}
	if o := res.Outcomes[8]; o.SQLState != "42601" || !strings.Contains(o.Error, model.Redacted) {
		t.Errorf("syntax error outcome: %q (%s); want the verifier redacted from PostgreSQL's message", o.Error, o.SQLState)
	}

	// Case S07 (docs/promises.md): the server holds verifiers, the new password logs in, the old one does not.
	ctx := context.Background()
	var stored, storedMD5, storedSCRAM string
	queryRow(t, env.Primary, "postgres", `SELECT (SELECT rolpassword FROM pg_authid WHERE rolname = 'leaky'),
		(SELECT rolpassword FROM pg_authid WHERE rolname = 'leaky_md5'),
		(SELECT rolpassword FROM pg_authid WHERE rolname = 'leaky_scram')`, nil, &stored, &storedMD5, &storedSCRAM)
	if ok, err := scram.Matches(pw[1], stored); !ok || err != nil {
		t.Errorf("leaky's verifier does not match the rotated password: %v", err)
	}
	if storedMD5 != scram.MD5(pw[3], "leaky_md5") || storedSCRAM != verifier {
		t.Errorf("md5 role holds the md5 hash: %v; scram role holds the given verifier: %v",
			storedMD5 == scram.MD5(pw[3], "leaky_md5"), storedSCRAM == verifier)
	}
	if conn, err := env.Primary.Connect(ctx, "leaky", pw[1], "postgres"); err != nil {
		t.Errorf("the rotated password does not log in: %v", err)
	} else {
		conn.Close(ctx)
	}
	if conn, err := env.Primary.Connect(ctx, "leaky", pw[0], "postgres"); err == nil {
		conn.Close(ctx)
		t.Error("the old password still logs in")
	}

	// Everything a secret could have reached.
	haystacks := map[string]string{"apply log": f.logs.String(), "outcomes": fmt.Sprintf("%+v %#v", res, res)}
	for _, s := range env.Servers() {
		text, err := s.Log()
		if err != nil {
			t.Fatal(err)
		}
		haystacks[s.Name()+" server log"] = text
	}
	var pgss string
	queryRow(t, env.Primary, "postgres", "SELECT coalesce(string_agg(query, E'\\n'), '') FROM pg_stat_statements", nil, &pgss)
	haystacks["pg_stat_statements"] = pgss
	haystacks["change log"] = fmt.Sprintf("%+v", f.changeLog())

	// The test means something only if statements are logged and tracked.
	if !strings.Contains(haystacks[primaryName()+" server log"], `CREATE ROLE "leaky_md5"`) || !strings.Contains(pgss, "CREATE ROLE pgss_witness") {
		t.Fatal("statement logging or pg_stat_statements utility tracking is off: the leak checks would prove nothing")
	}
	if strings.Count(haystacks["change log"], "Status:") != len(res.Outcomes) {
		t.Fatalf("change log: %s", haystacks["change log"])
	}

	needles := append([]string{}, pw...)
	for _, hash := range []string{stored, storedMD5, verifier, verifier5} {
		needles = append(needles, hash)
		needles = append(needles, strings.FieldsFunc(hash, func(r rune) bool { return r == '$' || r == ':' })[1:]...)
	}
	needles = append(needles, storedMD5[3:])
	for where, text := range haystacks {
		for _, n := range needles {
			if n != "4096" && strings.Contains(text, n) {
				t.Errorf("%s contains a secret (%.12s…)", where, n)
			}
		}
	}
	for _, l := range f.serverLines(env.Primary) {
		if strings.Contains(l, "PASSWORD") || strings.Contains(l, "SCRAM-SHA-256$") || md5Hash.MatchString(l) {
			t.Errorf("server log shows a password statement or hash: %.80s…", l)
		}
	}
}
