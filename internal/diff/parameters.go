package diff

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// parameters plans ALTER SYSTEM for the server parameters the spec sets on
// an instance. Values compare after unit normalisation against the live
// setting, or against the value written in postgresql.auto.conf when a
// restart is pending. A value the server would refuse, or a parameter it
// does not know, is reported and never planned. Parameters the spec does
// not set are left alone.
func (b *builder) parameters(in *model.Instance, st *model.InstanceState) {
	for _, p := range in.Parameters {
		ls := st.Settings[p.Name]
		ch := plan.Change{Kind: plan.KindParameter, Object: p.Name, Instance: in.Name(), After: p.Value,
			Parameter: &plan.ParameterChange{Name: p.Name, Value: p.Value}}
		if ls == nil {
			ch.Action, ch.Reason = plan.ActionReport, "the server does not know this parameter; not planned"
			b.add(phParameter, ch)
			continue
		}
		ch.Before = display(ls.Setting, ls)
		ch.RequiresRestart = pgconf.RequiresRestart(ls)
		if err := pgconf.Validate(p.Value, ls); err != nil {
			ch.Action, ch.Reason = plan.ActionReport, fmt.Sprintf("not planned: %v", err)
			b.add(phParameter, ch)
			continue
		}
		written := ls.FileValue != nil && (ls.PendingRestart || !ls.FileApplied)
		switch {
		case written && pgconf.Equal(p.Value, *ls.FileValue, ls):
			if ls.PendingRestart && !pgconf.Equal(p.Value, ls.Setting, ls) {
				// Written by an earlier apply; waiting for a restart that
				// the reconciler never does on its own.
				ch.Action, ch.RequiresRestart = plan.ActionReport, true
				ch.Reason = "written to postgresql.auto.conf; live after a restart"
				b.add(phParameter, ch)
			}
			continue
		case !written && pgconf.Equal(p.Value, ls.Setting, ls):
			continue
		}
		if written {
			ch.Before = display(*ls.FileValue, ls) + " (written, pending restart)"
		}
		ch.Action, ch.Reason = plan.ActionChange, "value differs"
		ch.Statements = []plan.Statement{noTx("ALTER SYSTEM SET %s = %s", ident(p.Name), pgconf.QuoteValue(p.Name, p.Value))}
		b.add(phParameter, ch)
	}
}

// display shows a pg_settings value with its unit ("16384 (8kB)" would
// puzzle; "16384 x 8kB" is what PostgreSQL means).
func display(v string, ls *model.LiveSetting) string {
	if ls.Unit == "" || v == "" || v == "-1" {
		return v
	}
	if ls.Unit == "8kB" {
		return v + " x 8kB"
	}
	return v + ls.Unit
}
