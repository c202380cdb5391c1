package scram

import (
	"errors"
	"strings"
	"testing"
)

// pencil is RFC 7677's example password with its salt, as PostgreSQL
// stores it (the keys are checked against the RFC in TestRFC7677).
const pencil = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

func TestParseRoundTrip(t *testing.T) {
	v, err := Parse(pencil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Iterations != 4096 || len(v.Salt) != 16 {
		t.Errorf("Parse: iterations %d, salt %d bytes; want 4096, 16", v.Iterations, len(v.Salt))
	}
	if got := v.String(); got != pencil {
		t.Errorf("String() = %q, want %q", got, pencil)
	}
}

func TestParseRejects(t *testing.T) {
	salt, keys := "W22ZaJ0SNY7soEsUEjb6gQ==", "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	bad := map[string]string{
		"empty":               "",
		"md5 hash":            "md5" + strings.Repeat("0", 32),
		"lowercase prefix":    "scram-sha-256$4096:" + salt + "$" + keys,
		"no keys":             "SCRAM-SHA-256$4096:" + salt,
		"no salt separator":   "SCRAM-SHA-256$4096$" + keys,
		"no key separator":    "SCRAM-SHA-256$4096:" + salt + "$" + strings.Replace(keys, ":", "", 1),
		"zero iterations":     "SCRAM-SHA-256$0:" + salt + "$" + keys,
		"negative iterations": "SCRAM-SHA-256$-1:" + salt + "$" + keys,
		"plus sign":           "SCRAM-SHA-256$+4096:" + salt + "$" + keys,
		"leading zero":        "SCRAM-SHA-256$04096:" + salt + "$" + keys,
		"iterations overflow": "SCRAM-SHA-256$2147483648:" + salt + "$" + keys,
		"empty salt":          "SCRAM-SHA-256$4096:$" + keys,
		"unpadded salt":       "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ$" + keys,
		"url-safe base64":     "SCRAM-SHA-256$4096:W22ZaJ0SNY7so_sUEjb6gQ==$" + keys,
		"newline in salt":     "SCRAM-SHA-256$4096:W22ZaJ0SNY7s\noEsUEjb6gQ==$" + keys,
		"spare bits set":      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gR==$" + keys,
		"short stored key":    "SCRAM-SHA-256$4096:" + salt + "$" + "AAAA:" + strings.Split(keys, ":")[1],
		"short server key":    "SCRAM-SHA-256$4096:" + salt + "$" + strings.Split(keys, ":")[0] + ":AAAA",
		"trailing data":       pencil + "x",
		"extra section":       pencil + "$x",
	}
	for name, s := range bad {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse error = %v, want ErrMalformed", name, err)
		}
	}
}
