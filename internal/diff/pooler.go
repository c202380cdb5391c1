package diff

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// pooler compares the PgBouncer beside an instance with the files Pigsty
// would render for it (package pgbouncer): one KindPgBouncer change per
// file whose content differs, with its line diff (verifiers redacted);
// one per file right on disk that the pooler has not loaded (a reload);
// a report for what pgbouncer.ini, which is not managed, sets otherwise,
// for a file that cannot be read, and for a pooler that could not be read
// at all. A pooler that is down is reported here and nowhere else: it
// changes nothing of what is planned for PostgreSQL.
//
// userlist.txt is rendered with the primary's pg_authid (as Pigsty's
// pgb-user AUTO copies it). A verifier that would have to be hashed now
// (the role's password changes in this very plan) is hashed with a fixed
// salt, so that the plan stays a function of its inputs: it only makes the
// entry differ, it is never written (the apply renders the files again,
// after the role changes ran).
func (b *builder) pooler(in *model.Instance, st *model.InstanceState) {
	if !in.Pooler.Enabled || (st.Pooler == nil && st.PoolerErr == "") {
		return
	}
	report := func(object, reason string) {
		b.add(phPgBouncer, plan.Change{Kind: plan.KindPgBouncer, Action: plan.ActionReport, Object: object, Instance: in.Name(), Reason: reason})
	}
	if st.Pooler == nil {
		report("pgbouncer", "the PgBouncer beside "+in.Name()+" could not be read: "+st.PoolerErr+
			"; its files are not compared (PostgreSQL's own state is planned as usual)")
		return
	}
	live, _ := pgbouncer.ParseUserlist(st.Pooler.Userlist.Content)
	inp := pgbouncer.Inputs{Live: live, Rand: fixedSalt{}}
	if b.pl != nil && b.pl.AuthidReadable {
		inp.Stored = make(map[string]model.Secret, len(b.pl.Roles))
		for _, r := range b.pl.Roles {
			inp.Stored[r.Name] = r.Password
		}
	}
	want, err := pgbouncer.Render(b.c, in, inp)
	if err != nil {
		report("pgbouncer", "not planned: "+err.Error())
		return
	}
	changed := map[pgbouncer.File]bool{}
	findings := pgbouncer.CompareFiles(want, st.Pooler)
	if why, all := unreadableAll(st.Pooler); all {
		// One report, not four: the host's files cannot be reached (no
		// reader for it, the SSH host refused …).
		for _, f := range pgbouncer.AllFiles {
			changed[f] = true
		}
		report("pgbouncer files", "the files of the PgBouncer beside "+in.Name()+" could not be read: "+why+"; they are not compared")
		findings = nil
	}
	for _, f := range findings {
		changed[f.File] = true
		ch := plan.Change{Kind: plan.KindPgBouncer, Action: plan.ActionChange, Object: f.Object, Instance: in.Name(),
			Before: f.Have, After: f.Want, Reason: f.Reason,
			Intent: plan.Intent{Pooler: &plan.PoolerFile{File: f.File.Base(), Path: poolerPath(st.Pooler, f.File), Diff: f.Diff}}}
		if f.Have == "unreadable" {
			ch.Action, ch.Pooler = plan.ActionReport, nil
		}
		b.add(phPgBouncer, ch)
	}
	// What the admin console shows differs from files that are right on
	// disk: not reloaded, or refused at the last reload. One change per
	// file; none for a file that is rewritten anyway.
	stale := map[pgbouncer.File]*plan.Change{}
	var order []pgbouncer.File
	for _, f := range pgbouncer.CompareState(b.c, in, want, st.Pooler) {
		if f.File == pgbouncer.INI {
			report("pgbouncer.ini "+f.Object, fmt.Sprintf("%s (want %s, have %s); pgbouncer.ini is Pigsty's, read and never written", f.Reason, f.Want, f.Have))
			continue
		}
		if changed[f.File] {
			continue
		}
		ch := stale[f.File]
		if ch == nil {
			ch = &plan.Change{Kind: plan.KindPgBouncer, Action: plan.ActionChange, Object: f.File.Base(), Instance: in.Name(),
				Before: "not in force", After: "reloaded",
				Reason: "the file on disk is what is rendered, but the pooler has not loaded it (no RELOAD since it was written, or the pooler refused it: see its log)",
				Intent: plan.Intent{Pooler: &plan.PoolerFile{File: f.File.Base(), Path: poolerPath(st.Pooler, f.File), Reload: true}}}
			stale[f.File] = ch
			order = append(order, f.File)
		}
		ch.Pooler.Diff = append(ch.Pooler.Diff, fmt.Sprintf("! %s: in force %s, in the file %s", f.Object, f.Have, f.Want))
	}
	for _, f := range order {
		b.add(phPgBouncer, *stale[f])
	}
}

// unreadableAll reports whether none of the pooler's four files was read
// for the same reason, and that reason.
func unreadableAll(st *model.PoolerState) (string, bool) {
	_, first := pgbouncer.Live(st, pgbouncer.AllFiles[0])
	for _, f := range pgbouncer.AllFiles[1:] {
		if _, why := pgbouncer.Live(st, f); why != first {
			return "", false
		}
	}
	return first, first != ""
}

// poolerPath is where the pooler's file was read.
func poolerPath(st *model.PoolerState, f pgbouncer.File) string {
	path, _ := pgbouncer.Live(st, f)
	return path
}

// fixedSalt is the salt source of the verifiers the plan hashes only to
// compare (see pooler): zeros, never written anywhere.
type fixedSalt struct{}

func (fixedSalt) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
