package audit

import (
	"fmt"
	"strings"
	"time"
)

// view is the report arranged for the HTML and markdown forms: the same
// content, in reading order.
type view struct {
	*Report
	Frameworks []frameworkView
	Details    []controlView
	Totals     Counts // controls by status
}

type frameworkView struct {
	Name     Framework
	Controls []ControlResult
}

type controlView struct {
	ControlResult
	Checks []*CheckResult
}

func newView(r *Report) *view {
	v := &view{Report: r}
	for _, f := range []Framework{MLPS3, SOC2} {
		fv := frameworkView{Name: f}
		for _, c := range r.Controls {
			if c.Framework == f {
				fv.Controls = append(fv.Controls, c)
			}
		}
		v.Frameworks = append(v.Frameworks, fv)
	}
	for _, c := range r.Controls {
		v.Totals.add(c.Status)
		cv := controlView{ControlResult: c}
		for _, id := range c.Checks {
			cv.Checks = append(cv.Checks, r.check(id))
		}
		v.Details = append(v.Details, cv)
	}
	return v
}

// Headline is the report's one-line result.
func (v *view) Headline() string {
	word := "no required check fails"
	if v.Failed {
		word = "a required check fails"
	}
	return fmt.Sprintf("%s: %d controls pass, %d fail, %d unknown, %d not applicable (profile %s)",
		word, v.Totals.Pass, v.Totals.Fail, v.Totals.Unknown, v.Totals.NotApplicable, v.Profile)
}

// Revision names the audited spec revision.
func (v *view) Revision() string {
	if v.Commit == "" {
		return "a work tree (no commit)"
	}
	s := "commit " + v.Commit
	if v.Signer != "" {
		s += ", signed by " + v.Signer
	} else {
		s += " (signature not verified)"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// defaultMark is the reference's Default Met column.
func defaultMark(met bool) string {
	if met {
		return "✔ default met"
	}
	return "⚠ needs configuration"
}

func requiredMark(c ControlResult) string {
	if c.Required {
		return "required"
	}
	return "advisory"
}

func countsText(c Counts) string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{c.Pass, "pass"}, {c.Fail, "fail"}, {c.Unknown, "unknown"}, {c.NotApplicable, "n/a"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// anchor is an id usable in HTML and markdown links.
func anchor(prefix, id string) string {
	return prefix + "-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '-'
	}, id)
}
