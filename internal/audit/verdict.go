package audit

import (
	"fmt"
	"strings"
)

// Status is a verdict: what the evidence says of a check or a control.
type Status uint8

const (
	StatusPass          Status = iota + 1 // the evidence shows the control in force
	StatusFail                            // the evidence shows it is not
	StatusNotApplicable                   // nothing to judge here (pgaudit not loaded, a replica's archive …)
	StatusUnknown                         // the evidence could not be read (no privilege, unreachable) or is not visible from PostgreSQL
)

func (s Status) String() string {
	switch s {
	case StatusPass:
		return "pass"
	case StatusFail:
		return "fail"
	case StatusNotApplicable:
		return "n/a"
	case StatusUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText makes a Status print as its name in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// worse orders statuses for combining: fail, then unknown, then pass, then
// not applicable. A combination of nothing is not applicable.
func worse(a, b Status) Status {
	rank := func(s Status) int {
		switch s {
		case StatusFail:
			return 4
		case StatusUnknown:
			return 3
		case StatusPass:
			return 2
		case StatusNotApplicable:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Fact is one piece of evidence: a setting, an HBA line, a catalog row,
// a certificate field. Values are never secrets: password hashes are read
// as their type only, HBA options that hold credentials are redacted, and
// commands are shown by their program name.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Bad marks the facts that make the verdict a fail.
	Bad bool `json:"bad,omitempty"`
}

// Verdict is a check's judgement of one instance, with the evidence that
// decides it.
type Verdict struct {
	Status Status `json:"status"`
	// Why says, in one line, what decided the status: for unknown, what
	// could not be read and why; for n/a, why nothing applies.
	Why      string `json:"why"`
	Evidence []Fact `json:"evidence,omitempty"`
}

// verdict is a small builder for the judge functions.
type verdict struct {
	facts []Fact
	bad   []string
}

// fact records a piece of evidence.
func (v *verdict) fact(name, format string, args ...any) {
	v.facts = append(v.facts, Fact{Name: name, Value: fmt.Sprintf(format, args...)})
}

// fail records a failing piece of evidence and why it fails.
func (v *verdict) fail(name, value, why string) {
	v.facts = append(v.facts, Fact{Name: name, Value: value, Bad: true})
	v.bad = append(v.bad, why)
}

// done returns the verdict: fail with the reasons recorded, or pass with
// ok as its why.
func (v *verdict) done(ok string) Verdict {
	if len(v.bad) > 0 {
		return Verdict{Status: StatusFail, Why: joinReasons(v.bad), Evidence: v.facts}
	}
	return Verdict{Status: StatusPass, Why: ok, Evidence: v.facts}
}

// joinReasons joins failure reasons, at most three spelt out.
func joinReasons(rs []string) string {
	if len(rs) <= 3 {
		return strings.Join(rs, "; ")
	}
	return strings.Join(rs[:3], "; ") + fmt.Sprintf("; and %d more", len(rs)-3)
}

func unknown(format string, args ...any) Verdict {
	return Verdict{Status: StatusUnknown, Why: fmt.Sprintf(format, args...)}
}

func notApplicable(format string, args ...any) Verdict {
	return Verdict{Status: StatusNotApplicable, Why: fmt.Sprintf(format, args...)}
}
