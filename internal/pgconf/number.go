package pgconf

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

const intRangeHint = "Value exceeds integer range."

// normalizeInt is guc.c's parse_int plus the range check of
// parse_and_validate_value; the result is pg_settings' "%d". Range errors
// use the server's wording: the bounds carry the unit from PostgreSQL 17.
func normalizeInt(value string, s *model.LiveSetting) (string, error) {
	bu, err := parseBaseUnit(s.Unit)
	if err != nil {
		return "", fmt.Errorf("parameter %q: %w", s.Name, err)
	}
	v, n, erange := strtol(value)
	f := float64(v)
	if erange || n < len(value) && (value[n] == '.' || value[n] == 'e' || value[n] == 'E') {
		f, n, erange = strtod(value)
	}
	if n == 0 || erange || math.IsNaN(f) {
		return "", invalidValue(s.Name, value, "")
	}
	if f, err = applyUnit(f, value[n:], bu, s.Name, value); err != nil {
		return "", err
	}
	f = math.RoundToEven(f)
	if f > math.MaxInt32 || f < math.MinInt32 {
		return "", invalidValue(s.Name, value, intRangeHint)
	}
	i := int64(f)
	lo, errLo := strconv.ParseInt(s.MinVal, 10, 64)
	hi, errHi := strconv.ParseInt(s.MaxVal, 10, 64)
	if errLo == nil && errHi == nil && (i < lo || i > hi) {
		u := unitSuffix(s.Unit)
		return "", &Error{Param: s.Name, Message: fmt.Sprintf(
			`%d%s is outside the valid range for parameter "%s" (%d%s .. %d%s)`, i, u, s.Name, lo, boundUnit(s), hi, boundUnit(s))}
	}
	return strconv.FormatInt(i, 10), nil
}

// normalizeReal is guc.c's parse_real plus the range check; the result is
// pg_settings' "%g".
func normalizeReal(value string, s *model.LiveSetting) (string, error) {
	bu, err := parseBaseUnit(s.Unit)
	if err != nil {
		return "", fmt.Errorf("parameter %q: %w", s.Name, err)
	}
	f, n, erange := strtod(value)
	if n == 0 || erange || math.IsNaN(f) {
		return "", invalidValue(s.Name, value, "")
	}
	if f, err = applyUnit(f, value[n:], bu, s.Name, value); err != nil {
		return "", err
	}
	// pg_settings shows the bounds with %g too; a bound rounded to six
	// digits can make this check a hair stricter or looser than the server's.
	lo, errLo := strconv.ParseFloat(s.MinVal, 64)
	hi, errHi := strconv.ParseFloat(s.MaxVal, 64)
	if errLo == nil && errHi == nil && (f < lo || f > hi) {
		u := unitSuffix(s.Unit)
		return "", &Error{Param: s.Name, Message: fmt.Sprintf(
			`%s%s is outside the valid range for parameter "%s" (%s%s .. %s%s)`,
			formatReal(f), u, s.Name, formatReal(lo), boundUnit(s), formatReal(hi), boundUnit(s))}
	}
	return formatReal(f), nil
}

// applyUnit handles what follows the number: nothing but spaces, or a unit
// the parameter accepts.
func applyUnit(f float64, rest string, bu *baseUnit, name, value string) (float64, error) {
	rest = rest[skipSpace(rest, 0):]
	if rest == "" {
		return f, nil
	}
	if bu == nil {
		return 0, invalidValue(name, value, "")
	}
	c, ok := bu.convert(f, rest)
	if !ok {
		return 0, invalidValue(name, value, bu.hint)
	}
	return c, nil
}

// formatReal is printf("%g") as PostgreSQL's own snprintf does it, which
// spells the special values "NaN", "Infinity" and "-Infinity".
func formatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return fmt.Sprintf("%.6g", f)
}

// boundUnit is what follows a bound in a range error: the unit, from
// PostgreSQL 17 on.
func boundUnit(s *model.LiveSetting) string {
	if major(s) < 17 {
		return ""
	}
	return unitSuffix(s.Unit)
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}
