package scram

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestOracle asks a real PostgreSQL 15 to hash passwords and checks that
// Matches and Compute agree with what it stores, including the SASLprep
// corner cases where PostgreSQL departs from RFC 4013.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	c := testenv.NewCluster(t, testenv.Options{Name: "scram-oracle", Replicas: -1})
	ctx := t.Context()
	conn, err := c.Primary.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	mustExec(t, conn, "CREATE ROLE oracle LOGIN")

	t.Run("server hashes", func(t *testing.T) {
		mustExec(t, conn, "SET password_encryption = 'scram-sha-256'")
		cases := []struct {
			name, password string
			alsoMatches    string // another password the server's verifier accepts
			notMatches     string // a look-alike it must refuse
		}{
			{"ascii", "pw1", "", "pw2"},
			{"ascii with quote and backslash", `it's a \ test`, "", `it's a \\ test`},
			{"ascii control unchecked", "tab\there", "", "tab here"},
			{"nfc", "p\u00E4ssw\u00F6rd", "pa\u0308sswo\u0308rd", "passwort"},
			{"nfd", "pa\u0308sswo\u0308rd", "p\u00E4ssw\u00F6rd", "passwort"},
			{"ligature only with nfkc", "\uFB01x", "fix", "\uFB01"},
			{"fullwidth", "\uFF21\uFF42\uFF43", "Abc", "abc"},
			{"roman numeral", "\u2168", "IX", "ix"},
			{"soft hyphen mapped to nothing", "\u00ADsoft\u00ADhyphen", "softhyphen", "soft-hyphen"},
			{"nbsp mapped to space", "nb\u00A0sp", "nb sp", "nbsp"},
			{"zero width space mapped to space", "zw\u200Bsp", "zw sp", "zwsp"},
			{"empty after mapping uses raw bytes", "\u00AD", "", "\u200C"},
			{"prohibited checked before nfkc", "a\u0340b", "", "a\u0300b"},
			{"bidi checked before nfkc", "\uFB1D", "\u05D9\u05B4", "\u05D9"},
			{"private use uses raw bytes", "\uE000private", "", "private"},
			{"replacement character uses raw bytes", "\uFFFDrepl", "", "repl"},
			{"unassigned in 3.2 uses raw bytes", "\u0221x", "", "x"},
			{"hebrew", "\u05D0\u05D1", "", "\u05D1\u05D0"},
			{"bidi violation uses raw bytes", "\u05D0a\u05D1", "", "\u05D0\u05D1"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mustExec(t, conn, "ALTER ROLE oracle PASSWORD "+quoteLiteral(tc.password))
				stored := rolpassword(t, conn, "oracle")
				v, err := Parse(stored)
				if err != nil {
					t.Fatalf("Parse(server verifier): %v", err)
				}
				if got, err := Compute(tc.password, v.Salt, v.Iterations); err != nil || got != stored {
					t.Errorf("Compute = %q, %v; server stored %q", got, err, stored)
				}
				if ok, err := Matches(tc.password, stored); !ok || err != nil {
					t.Errorf("Matches(password) = %v, %v", ok, err)
				}
				if tc.alsoMatches != "" {
					if ok, _ := Matches(tc.alsoMatches, stored); !ok {
						t.Errorf("Matches(%+q) = false, want true", tc.alsoMatches)
					}
				}
				if ok, _ := Matches(tc.notMatches, stored); ok {
					t.Errorf("Matches(%+q) = true, want false", tc.notMatches)
				}
			})
		}
	})

	t.Run("server hashes md5", func(t *testing.T) {
		mustExec(t, conn, "SET password_encryption = 'md5'")
		defer mustExec(t, conn, "RESET password_encryption")
		mustExec(t, conn, "ALTER ROLE oracle PASSWORD 'pencil'")
		stored := rolpassword(t, conn, "oracle")
		if got := MD5("pencil", "oracle"); got != stored {
			t.Errorf("MD5 = %q, server stored %q", got, stored)
		}
		if ok, err := MatchesMD5("pencil", "oracle", stored); !ok || err != nil {
			t.Errorf("MatchesMD5 = %v, %v", ok, err)
		}
	})

	t.Run("our verifier logs in", func(t *testing.T) {
		// Passwords pgx prepares the same way PostgreSQL does (pgx uses
		// NFC, so "\uFB01x" would not log in from pgx whatever the verifier).
		for i, password := range []string{"correct horse battery staple", "p\u00E4ssw\u00F6rd"} {
			user := "login" + string(rune('a'+i))
			verifier, err := New(password, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, conn, "CREATE ROLE "+user+" LOGIN PASSWORD "+quoteLiteral(verifier))
			if got := rolpassword(t, conn, user); got != verifier {
				t.Errorf("%s: server stored %q, want our verifier %q byte for byte", user, got, verifier)
			}
			login, err := c.Primary.Connect(ctx, user, password, "postgres")
			if err != nil {
				t.Errorf("%s: SCRAM login with the password: %v", user, err)
			} else {
				login.Close(ctx)
			}
			if login, err := c.Primary.Connect(ctx, user, password+"x", "postgres"); err == nil {
				login.Close(ctx)
				t.Errorf("%s: SCRAM login with a wrong password succeeded", user)
			}
		}
	})
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func rolpassword(t *testing.T, conn *pgx.Conn, role string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// quoteLiteral quotes s for standard_conforming_strings = on (the default).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
