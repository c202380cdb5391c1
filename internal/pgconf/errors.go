package pgconf

import "errors"

// ErrUnknownParameter is returned for a nil setting: the server has no
// parameter of that name (pg_settings has no row for it).
var ErrUnknownParameter = errors.New("unrecognized configuration parameter")

// Error is a value the server would refuse, worded as PostgreSQL words the
// refusal (message, detail and hint), so a plan can show the operator what
// ALTER SYSTEM would have said without running it.
type Error struct {
	Param   string // the parameter's name
	Message string // PostgreSQL's primary message
	Detail  string
	Hint    string
}

func (e *Error) Error() string {
	s := e.Message
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Hint != "" {
		s += " (hint: " + e.Hint + ")"
	}
	return s
}

// invalidValue is guc.c's most common refusal.
func invalidValue(name, value, hint string) *Error {
	return &Error{
		Param:   name,
		Message: `invalid value for parameter "` + name + `": "` + value + `"`,
		Hint:    hint,
	}
}
