package pgconf

import (
	"math"
	"strconv"
	"strings"
)

// This file reproduces the two C library calls PostgreSQL's parse_int and
// parse_real rest on, as glibc implements them in the C locale: strtol with
// base 0 and strtod. Each returns the value, the length of the prefix it
// consumed (0 when nothing was converted, like endptr == value) and whether
// errno would be ERANGE.

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func digitVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

func isHex(c byte) bool { return digitVal(c) < 16 }

// strtol is strtol(s, &end, 0) for a 64-bit long.
func strtol(s string) (v int64, n int, erange bool) {
	i := skipSpace(s, 0)
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]):
		base = 16
		i += 2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var mag uint64
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	for ; i < len(s); i++ {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if !erange && mag > (limit-uint64(d))/uint64(base) {
			erange = true
		}
		mag = mag*uint64(base) + uint64(d)
	}
	if i == start {
		return 0, 0, false
	}
	switch {
	case erange && neg:
		return math.MinInt64, i, true
	case erange:
		return math.MaxInt64, i, true
	case neg:
		return -int64(mag), i, false
	}
	return int64(mag), i, false
}

// strtod is strtod(s, &end): decimal and hexadecimal floats, "inf",
// "infinity" and "nan", with ERANGE on overflow and on underflow to zero or
// a subnormal.
func strtod(s string) (v float64, n int, erange bool) {
	i := skipSpace(s, 0)
	sign := ""
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		sign = s[i : i+1]
		i++
	}
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return signed(sign, math.Inf(1)), i + 8, false
	case strings.HasPrefix(rest, "inf"):
		return signed(sign, math.Inf(1)), i + 3, false
	case strings.HasPrefix(rest, "nan"):
		return math.NaN(), i + 3 + nanPayload(s[i+3:]), false
	}
	hex := len(rest) > 2 && rest[0] == '0' && rest[1] == 'x' &&
		(isHex(rest[2]) || rest[2] == '.' && len(rest) > 3 && isHex(rest[3]))
	digit := func(c byte) bool { return '0' <= c && c <= '9' }
	expMark := byte('e')
	mant := i
	if hex {
		digit, expMark = isHex, 'p'
		mant += 2
	}
	j, digits := mant, 0
	for ; j < len(s) && digit(s[j]); j++ {
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for ; j < len(s) && digit(s[j]); j++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	end := j
	if j < len(s) && (s[j]|0x20) == expMark {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && '0' <= s[k] && s[k] <= '9' {
			for k < len(s) && '0' <= s[k] && s[k] <= '9' {
				k++
			}
			end = k
		}
	}
	text := sign + s[i:end]
	if hex && end == j {
		text += "p0" // Go wants the binary exponent C lets you omit
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, 0, false // cannot happen for the prefixes scanned above
	}
	erange = math.IsInf(f, 0) || f == 0 && hasNonZeroDigit(s[mant:j]) ||
		f != 0 && math.Abs(f) < 0x1p-1022
	return f, end, erange
}

func signed(sign string, f float64) float64 {
	if sign == "-" {
		return -f
	}
	return f
}

// nanPayload is the length of an optional "(n-char-sequence)" after "nan".
func nanPayload(s string) int {
	if s == "" || s[0] != '(' {
		return 0
	}
	for k := 1; k < len(s); k++ {
		c := s[k]
		switch {
		case c == ')':
			return k + 1
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		default:
			return 0
		}
	}
	return 0
}

func hasNonZeroDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' && s[i] != '.' {
			return true
		}
	}
	return false
}
