package daemon

import (
	"errors"
	"fmt"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// What a source remembers of the commits it would not use lives in the
// state directory (source.Refused), so that a restarted daemon neither
// reads a refused commit again nor dies again on one: every refusal (a
// signature, the history, the tree, an invalid spec, a spec over its
// budget or time, a rewind below a change-log floor) and the commit being
// evaluated, recorded before its tree and spec are read and cleared after.
// A daemon that finds that marker at start died while evaluating the
// commit — killed out of memory, most likely — and refuses it. A reload
// forgets it all: the new trust, profile or allow_rewind may judge the
// commits differently.

// errUnchanged ends a resolve whose target is the source's good commit:
// it was read and validated before.
var errUnchanged = errors.New("the target is the last good commit")

// knownRefusal ends a resolve whose target was refused before.
type knownRefusal struct{ source.RefusedCommit }

func (k *knownRefusal) Error() string { return k.Reason }

// loadRefused reads what the state directory remembers of the source's
// refused commits, once per process; it reports whether the source may be
// fetched (a corrupt file stops it, and is read again at the next fetch).
func (d *Daemon) loadRefused(st *sourceState, dir string) bool {
	st.mu.Lock()
	loaded := st.refused != nil
	st.mu.Unlock()
	if loaded {
		return true
	}
	r := &source.Refused{Source: st.name}
	if dir != "" {
		var err error
		if r, err = source.LoadRefused(dir, st.name); err != nil {
			st.setError(err.Error())
			d.log.Error("cannot read the refused commits of the source: not fetching it (fix or remove the file)", "source", st.name, "err", err)
			return false
		}
	}
	ev := r.Evaluating
	st.mu.Lock()
	st.refused = r
	st.mu.Unlock()
	for _, c := range r.Commits {
		d.log.Info("commit refused before the restart: not read again until a reload", "source", st.name, "commit", c.Commit, "kind", c.Kind)
	}
	if ev != nil {
		d.refuse(st, dir, ev.Commit, model.RefusalInvalid, fmt.Sprintf(
			"refuse commit %s: the daemon died while evaluating this commit (from %s): out of memory, most likely; it is not read again until a reload (SIGHUP)",
			ev.Commit, ev.Since.UTC().Format(time.RFC3339)), "the daemon died while evaluating a commit: refused")
	}
	return true
}

// remember changes what the source remembers (under st.mu) and writes it
// to the state directory. st.saveMu orders the changes and writes, so a
// write never reads a change in progress.
func (d *Daemon) remember(st *sourceState, dir string, change func(r *source.Refused)) error {
	st.saveMu.Lock()
	defer st.saveMu.Unlock()
	st.mu.Lock()
	if st.refused == nil { // a reload before the first fetch
		st.refused = &source.Refused{Source: st.name}
	}
	change(st.refused)
	r := st.refused
	st.mu.Unlock()
	if dir == "" {
		return nil
	}
	return source.SaveRefused(dir, r)
}

// admit is asked about a verified target before its tree is read: the
// good commit and commits refused before go no further; any other is
// recorded as being evaluated (a failure to record it is a reason to wait,
// not to evaluate unprotected).
func (d *Daemon) admit(st *sourceState, dir, commit string) error {
	st.mu.Lock()
	good := st.good != nil && st.good.prov.Commit == commit
	known, refused := st.refused.Find(commit)
	st.mu.Unlock()
	switch {
	case good:
		return errUnchanged
	case refused:
		return &knownRefusal{known}
	}
	err := d.remember(st, dir, func(r *source.Refused) {
		r.Evaluating = &source.Evaluating{Commit: commit, Since: d.now().UTC()}
	})
	if err != nil {
		d.endEvaluating(st, dir)
		return fmt.Errorf("record the commit being evaluated: %w", err)
	}
	d.log.Info("evaluating commit", "source", st.name, "commit", commit)
	return nil
}

// endEvaluating clears the marker of the commit being evaluated.
func (d *Daemon) endEvaluating(st *sourceState, dir string) {
	if err := d.remember(st, dir, func(r *source.Refused) { r.Evaluating = nil }); err != nil {
		d.log.Error("cannot clear the commit being evaluated in the state directory: a restart will refuse it", "source", st.name, "err", err)
	}
}

// refuse records a verdict on commit (ending its evaluation), shows it as
// the source's error, and logs and counts it once per commit.
func (d *Daemon) refuse(st *sourceState, dir, commit string, kind model.RefusalKind, reason, msg string) {
	var fresh bool
	err := d.remember(st, dir, func(r *source.Refused) {
		fresh = r.Add(source.RefusedCommit{Commit: commit, Kind: kind, Reason: reason, At: d.now().UTC()})
	})
	st.setError(reason)
	if err != nil {
		d.log.Error("cannot remember the refused commit in the state directory: a restart will judge it again", "source", st.name, "commit", commit, "err", err)
	}
	if fresh {
		d.rec.VerificationFailed(st.name, kind)
		d.log.Error(msg+": staying on the last good commit", "source", st.name, "commit", commit, "kind", kind, "reason", reason)
	}
}

// forgetRefused is a reload's clean slate: the commits refused so far
// are judged again.
func (d *Daemon) forgetRefused(st *sourceState, dir string) {
	err := d.remember(st, dir, func(r *source.Refused) { r.Commits, r.Evaluating = nil, nil })
	if err != nil {
		d.log.Error("cannot forget the refused commits in the state directory: a restart will not judge them again", "source", st.name, "err", err)
	}
}
