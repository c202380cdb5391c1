package diff

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// hba compares the rendered pg_hba.conf of an instance with the live file,
// semantically and in order (first match wins), plus any line PostgreSQL
// reports as broken. Comments and spacing are not drift. An instance with
// no HBA rules at all (pg_default_hba_rules: [] and no pg_hba_rules) does
// not have its pg_hba.conf managed: an empty file would lock everyone out.
func (b *builder) hba(in *model.Instance, st *model.InstanceState) {
	if len(in.HBA) == 0 {
		return
	}
	want, err := hba.Render(b.c, in)
	ch := plan.Change{Kind: plan.KindHBA, Object: "pg_hba.conf", Instance: in.Name()}
	if err != nil {
		ch.Action, ch.Reason = plan.ActionReport, fmt.Sprintf("not planned: render pg_hba.conf: %v", err)
		b.add(phHBA, ch)
		return
	}
	if st.HBA == nil {
		ch.Action = plan.ActionReport
		ch.Reason = "pg_hba.conf is not readable by " + st.Session.User + " (pg_read_file, pg_hba_file_rules): cannot compare"
		b.add(phHBA, ch)
		return
	}
	live, parseErrs := liveHBALines(st.HBA)
	d := hba.Compare(want.Lines, live)
	var broken []string
	for _, row := range st.HBA.Rules {
		if msg := hba.RowError(row); msg != "" && (row.File == "" || row.File == st.HBA.Path) {
			broken = append(broken, fmt.Sprintf("line %d: %s", row.Line, msg))
		}
	}
	included := append(includedRules(st.HBA), unparsedRules(st.HBA, parseErrs)...)
	stale := !st.HBA.Modified.IsZero() && st.HBA.Modified.After(st.HBA.Loaded)
	if d.Empty() && len(broken)+len(included) == 0 && !stale {
		return
	}
	if d.Empty() && len(broken)+len(included) == 0 && st.HBA.Modified.After(st.Now) {
		// Modified in the future (a clock that stepped back): a reload
		// would not make it older than the load, so "reload only" would
		// come back on every apply.
		ch.Action, ch.Before = plan.ActionReport, "modified in the future"
		ch.Reason = "pg_hba.conf holds the rendered rules but was modified in the future (" + st.HBA.Modified.Format(time.RFC3339) +
			", by the server's clock): cannot tell whether the server has loaded it; not planned"
		b.add(phHBA, ch)
		return
	}
	var lines []string
	for _, e := range d.Entries {
		lines = append(lines, e.String())
	}
	for _, msg := range included {
		lines = append(lines, "- "+msg)
	}
	for _, msg := range broken {
		lines = append(lines, "! "+msg)
	}
	ch.Action = plan.ActionChange
	ch.Before = describeHBA(len(d.Unexpected)+len(included), len(d.Moved), len(broken))
	if d.Empty() && len(broken)+len(included) == 0 {
		// The file is right on disk but the server has not loaded it
		// (written without a reload, or the reload was lost): apply writes
		// nothing and reloads.
		ch.Before = "modified after the last reload: not in force"
		lines = append(lines, "! the file on disk is not what the server has loaded")
	}
	ch.After = fmt.Sprintf("%d rules", len(want.Lines))
	if len(d.Missing) > 0 {
		ch.After += fmt.Sprintf(" (%d missing live)", len(d.Missing))
	}
	ch.Reason = "live rules differ from the rendered file"
	ch.HBA = &plan.HBAFile{Content: want.Text, Diff: lines}
	b.add(phHBA, ch)
	b.newHBA[in.Name()] = want.Lines
}

// liveHBALines are the rules of the live file: its text parsed, or, when
// pg_read_file is not allowed but pg_hba_file_rules is, its rows (they
// lose some detail, e.g. quoting).
func liveHBALines(h *model.LiveHBA) ([]hba.Line, []error) {
	live, errs := hba.Parse(h.Text)
	if h.Text == "" && len(h.Rules) > 0 {
		live = live[:0]
		for _, row := range h.Rules {
			if hba.RowError(row) == "" {
				live = append(live, hba.FromRow(row))
			}
		}
	}
	return live, errs
}

func describeHBA(unexpected, moved, broken int) string {
	var parts []string
	if unexpected > 0 {
		parts = append(parts, fmt.Sprintf("%d unexpected", unexpected))
	}
	if moved > 0 {
		parts = append(parts, fmt.Sprintf("%d out of order", moved))
	}
	if broken > 0 {
		parts = append(parts, fmt.Sprintf("%d broken", broken))
	}
	if len(parts) == 0 {
		return "rules missing"
	}
	return strings.Join(parts, ", ")
}
