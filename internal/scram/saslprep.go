package scram

import (
	"errors"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Errors of SASLprep. They say which rule failed and nothing about the
// input: no character, no position.
var (
	ErrInvalidUTF8 = errors.New("saslprep: input is not valid utf-8")
	ErrProhibited  = errors.New("saslprep: input is empty after mapping, or has a prohibited or unassigned character, or fails the bidi rules")
)

// SASLprep prepares a password the way PostgreSQL's pg_saslprep
// (src/common/saslprep.c) does, which is RFC 4013 with PostgreSQL's
// particularities:
//
//   - A pure-ASCII input is returned unchanged, without any check (so
//     ASCII control characters pass).
//   - Mapping (RFC 3454 C.1.2 to U+0020, then B.1 to nothing) happens
//     first; U+200B is in both tables and becomes a space.
//   - An input that is empty after mapping is rejected.
//   - The prohibited-output (C.1.2–C.9), unassigned (A.1) and bidi
//     (RFC 3454 §6) checks look at the mapped string BEFORE NFKC
//     normalisation, not at the output as RFC 4013 §2 says. So "a\u0340"
//     is rejected (U+0340 is prohibited) although its NFKC form is not,
//     and "\uFB1D" is accepted although its NFKC form ends in a non-RandAL
//     character.
//   - The result is the NFKC form of the mapped string.
//
// It returns ErrInvalidUTF8 or ErrProhibited when PostgreSQL would fall
// back to the raw bytes of the password.
func SASLprep(s string) (string, error) {
	if isASCII(s) {
		return s, nil
	}
	if !utf8.ValidString(s) {
		return "", ErrInvalidUTF8
	}
	mapped := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case unicode.Is(mapToSpace, r):
			mapped = append(mapped, ' ')
		case unicode.Is(mapToNothing, r):
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return "", ErrProhibited
	}
	for _, r := range mapped {
		if unicode.Is(prohibited, r) || unicode.Is(unassigned, r) {
			return "", ErrProhibited
		}
	}
	if !bidiOK(mapped) {
		return "", ErrProhibited
	}
	return norm.NFKC.String(string(mapped)), nil
}

// prepare is what PostgreSQL hashes: the SASLprep form of the password, or
// its raw bytes when SASLprep fails.
func prepare(password string) string {
	if p, err := SASLprep(password); err == nil {
		return p
	}
	return password
}

// bidiOK applies RFC 3454 §6: a string with a RandALCat character has no
// LCat character and starts and ends with a RandALCat character.
func bidiOK(rs []rune) bool {
	hasRandAL := false
	for _, r := range rs {
		if unicode.Is(randAL, r) {
			hasRandAL = true
			break
		}
	}
	if !hasRandAL {
		return true
	}
	for _, r := range rs {
		if unicode.Is(leftToRight, r) {
			return false
		}
	}
	return unicode.Is(randAL, rs[0]) && unicode.Is(randAL, rs[len(rs)-1])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
