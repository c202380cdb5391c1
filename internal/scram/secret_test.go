package scram

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
)

// TestErrorsNeverContainThePassword feeds one distinctive password through
// every error path of the package, as a password and where a verifier or
// hash is expected, and checks no error text shows it or a piece of it.
func TestErrorsNeverContainThePassword(t *testing.T) {
	const pw = "Quokka-7741-\u0340-\u05D0-s3cr3t"
	marks := []string{pw, "Quokka", "s3cr3t", "7741"}
	salt := []byte("0123456789abcdef")
	keys := "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	for _, stored := range []string{
		pw,
		prefix + pw,
		prefix + "4096:" + pw,
		prefix + pw + ":W22ZaJ0SNY7soEsUEjb6gQ==$" + keys,
		prefix + "4096:" + pw + "$" + keys,
		prefix + "4096:W22ZaJ0SNY7soEsUEjb6gQ==$" + pw + ":" + pw,
		prefix + "4096:W22ZaJ0SNY7soEsUEjb6gQ==$" + pw,
	} {
		_, err := Parse(stored)
		collect(err)
		_, err = Matches(pw, stored)
		collect(err)
	}
	_, err := Matches(pw, strings.Replace(pencil, "$4096:", "$2000000:", 1))
	collect(err)
	_, err = Compute(pw+"\x00", salt, 4096)
	collect(err)
	_, err = Compute(pw, nil, 4096)
	collect(err)
	_, err = Compute(pw, salt, -1)
	collect(err)
	_, err = New(pw, iotest.ErrReader(errors.New("no entropy")))
	collect(err)
	_, err = MatchesMD5(pw, "user", pw)
	collect(err)
	_, err = SASLprep(pw)
	collect(err)
	_, err = SASLprep(pw + "\xff")
	collect(err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, m := range marks {
				if strings.Contains(text, m) {
					t.Errorf("case %d: error %q contains %q", i, text, m)
				}
			}
		}
	}

	s, err := Compute(pw, salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range marks {
		if strings.Contains(s, m) {
			t.Errorf("verifier %q contains %q", s, m)
		}
	}
}
