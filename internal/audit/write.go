package audit

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

func statusClass(s Status) string {
	switch s {
	case StatusPass:
		return "s-pass"
	case StatusFail:
		return "s-fail"
	case StatusNotApplicable:
		return "s-na"
	}
	return "s-unknown"
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"stamp": func(t any) string {
			switch t := t.(type) {
			case time.Time:
				return stamp(t)
			case *time.Time:
				if t != nil {
					return stamp(*t)
				}
			}
			return "-"
		},
		"statusClass":  statusClass,
		"defaultMark":  defaultMark,
		"requiredMark": requiredMark,
		"countsText":   countsText,
		"anchor":       anchor,
		"short":        short,
	}
}

// WriteHTML writes the report as one self-contained HTML page: styles
// inline, no script, nothing fetched, printable to PDF.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(templateFuncs()).Parse(htmlTemplate)
	if err != nil {
		return fmt.Errorf("parse report template: %w", err)
	}
	if err := t.Execute(w, newView(r)); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}
