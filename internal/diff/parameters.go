package diff

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// parameters plans ALTER SYSTEM for the server parameters the spec sets on
// an instance. Values compare after unit normalisation against the
// server's value (what a new session gets from the server's
// configuration, never the inspecting session's own value), or against
// the value written in postgresql.auto.conf when a restart is pending. A
// value the server would refuse, a parameter it does not know, a server
// value that cannot be told, and a value set on the postmaster's command
// line (which ALTER SYSTEM cannot override) are reported and never
// planned; only a value unknown because the configuration files were
// modified after the last reload is written again, and reloaded.
// Parameters the spec does not set are left alone. A value that may hold a
// credential (pgconf.MaySecret) is never shown: Before and After say
// Redacted, and the statement carries it in its Password.
func (b *builder) parameters(in *model.Instance, st *model.InstanceState) {
	for _, p := range in.Parameters {
		ls := liveSetting(st, p.Name)
		ch := plan.Change{Kind: plan.KindParameter, Object: p.Name, Instance: in.Name(), After: shown(p.Name, p.Value),
			Intent: plan.Intent{Parameter: &plan.ParameterChange{Name: p.Name, Value: model.NewSecret(p.Value)}}}
		if ls == nil {
			ch.Action, ch.Reason = plan.ActionReport, fmt.Sprintf("PostgreSQL %d does not know this parameter; not planned", st.Version/10000)
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
		switch {
		case ls.Unknown != "" && ls.Unloaded:
			// After a lost reload (promise P14; docs/promises.md): write it again and reload.
			ch.Action, ch.Before = plan.ActionChange, "unknown"
			ch.Reason = "cannot tell the server's value: " + ls.Unknown + "; writing it and reloading settles it"
			b.add(phParameter, ch)
			continue
		case ls.Unknown != "":
			ch.Action, ch.Before = plan.ActionReport, "unknown"
			ch.Reason = "cannot tell the server's value: " + ls.Unknown + "; not planned"
			b.add(phParameter, ch)
			continue
		case ls.Source == "command line":
			if !pgconf.Equal(p.Value, ls.Setting, ls) {
				ch.Action = plan.ActionReport
				ch.Reason = "set on the postmaster's command line (Patroni passes some parameters there), which ALTER SYSTEM cannot override; not planned"
				b.add(phParameter, ch)
			}
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
		b.add(phParameter, ch)
	}
}

// shown is a parameter value as a plan may show it: Redacted for a value
// that may hold a credential. An empty value holds none and shows as it is.
func shown(name, v string) string {
	if v != "" && pgconf.MaySecret(name) {
		return model.Redacted
	}
	return v
}

// display shows a pg_settings value with its unit ("16384 (8kB)" would
// puzzle; "16384 x 8kB" is what PostgreSQL means).
func display(v string, ls *model.LiveSetting) string {
	if ls.Unit == "" || v == "" || v == "-1" {
		return shown(ls.Name, v) // what MaySecret names are strings: no unit
	}
	if ls.Unit == "8kB" {
		return v + " x 8kB"
	}
	return v + ls.Unit
}

// liveSetting is the live setting called name: parameter names are
// case-insensitive, and pg_settings has its own case (DateStyle).
func liveSetting(st *model.InstanceState, name string) *model.LiveSetting {
	if ls := st.Settings[name]; ls != nil {
		return ls
	}
	for n, ls := range st.Settings {
		if strings.EqualFold(n, name) {
			return ls
		}
	}
	return nil
}
