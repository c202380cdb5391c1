package pgconf

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Normalize returns what pg_settings.setting would show for the parameter
// described by s once set to value through ALTER SYSTEM with QuoteValue:
//
//   - integer: parse_int (decimal, octal 0…, hex 0x…, or a float rounded
//     half to even), then a memory or time unit converted to the base unit
//     of s.Unit with convert_to_base_unit's rounding; "%d".
//   - real: parse_real with the same units (and the same rounding to the
//     next smaller unit), not rounded to an integer; "%g".
//   - bool: "on" or "off".
//   - enum: the value as pg_settings shows it (see normalizeEnum).
//   - string: unchanged, except the GUC_LIST_QUOTE lists (search_path,
//     shared_preload_libraries …), which become their elements, each
//     quoted as quote_identifier() would, joined with ", ".
//
// Integers and reals are range-checked against s.MinVal and s.MaxVal. An
// error is a *Error worded like PostgreSQL's, or ErrUnknownParameter for a
// nil s.
func Normalize(value string, s *model.LiveSetting) (string, error) {
	if s == nil {
		return "", ErrUnknownParameter
	}
	switch s.VarType {
	case "bool":
		return normalizeBool(value, s)
	case "integer":
		return normalizeInt(value, s)
	case "real":
		return normalizeReal(value, s)
	case "enum":
		return normalizeEnum(value, s)
	case "string":
		l, ok := listParamOf(s.Name, major(s))
		if !ok {
			return value, nil
		}
		elems, ok := l.split(value)
		if !ok {
			return "", listSyntaxError(s.Name, value)
		}
		return l.display(elems), nil
	}
	return "", fmt.Errorf("parameter %q has unknown type %q", s.Name, s.VarType)
}

// Equal reports whether a and b mean the same setting for s: their
// normalised forms are equal (for PostgreSQL 18's log_connections, the
// same aspects: "on" is "receipt,authentication,authorization"). When
// either does not normalise, the raw strings are compared.
func Equal(a, b string, s *model.LiveSetting) bool {
	if isConnectionAspects(s) {
		sa, errA := connectionAspects(a, s)
		sb, errB := connectionAspects(b, s)
		if errA == nil && errB == nil {
			return sa == sb
		}
		return a == b
	}
	na, errA := Normalize(a, s)
	nb, errB := Normalize(b, s)
	if errA != nil || errB != nil {
		return a == b
	}
	return na == nb
}

// Validate makes the checks ALTER SYSTEM SET makes before it writes
// postgresql.auto.conf: the parameter can be set at all, the value has no
// newline, and it parses for the parameter's type, unit, range or enum
// values. On top of that it refuses what ALTER SYSTEM accepts but the
// server cannot use (an empty element in a library or socket directory
// list; an empty such list where the default is not empty).
//
// It cannot run a parameter's check hook (a time zone name, a tablespace,
// the existence of a library …); those are the server's to refuse. Error
// messages quote the value, except for plain string parameters, which are
// never refused for their content and whose values (primary_conninfo …)
// may hold secrets.
func Validate(value string, s *model.LiveSetting) error {
	if s == nil {
		return ErrUnknownParameter
	}
	if ReadOnly(s) {
		return &Error{Param: s.Name, Message: `parameter "` + s.Name + `" cannot be changed`}
	}
	if _, err := Normalize(value, s); err != nil {
		return err
	}
	if strings.ContainsRune(value, '\n') {
		return &Error{Param: s.Name, Message: "parameter value for ALTER SYSTEM must not contain a newline"}
	}
	if l, ok := listParamOf(s.Name, major(s)); ok {
		elems, _ := l.split(value)
		return l.check(value, elems, s)
	}
	if isConnectionAspects(s) {
		_, err := connectionAspects(value, s)
		return err
	}
	return nil
}

func listSyntaxError(name, value string) *Error {
	e := invalidValue(name, value, "")
	e.Detail = "List syntax is invalid."
	return e
}
