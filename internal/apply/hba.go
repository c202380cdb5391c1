package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// hba replaces pg_hba.conf on the change's instance (promises P9, P10; docs/promises.md):
//
//  1. parse the candidate; refuse it if PostgreSQL would reject a line;
//  2. lockout guard (see lockout); refuse before anything is written;
//  3. read the live file (bytes, owner, mode); identical bytes: nothing to
//     write, unless the file is newer than the loaded configuration (a
//     run that stopped before its reload), then go on with step 5;
//  4. write the candidate atomically;
//  5. ask pg_hba_file_rules, which re-reads the file on disk: any error row
//     puts the previous bytes back, without a reload;
//  6. reload, and wait until the reload is done;
//  7. log in again with a fresh session, as the reconciler does; if that
//     fails, put the previous file back and reload again.
func (e *executor) hba(i int) error {
	c := &e.cp.Changes[i]
	w := e.opts.HBA
	switch {
	case w == nil:
		e.done(i, plan.StatusSkipped, "no HBA writer configured: pg_hba.conf is left as it is", "")
		return nil
	case c.HBA == nil:
		e.done(i, plan.StatusFailed, "HBA change without a file", "")
		return nil
	}
	in := e.t.Cluster.Instance(c.Instance)
	candidate := []byte(c.HBA.Content)
	lines, perrs := hba.Parse(c.HBA.Content)
	if len(perrs) > 0 {
		e.done(i, plan.StatusRefused, "PostgreSQL would reject the candidate: "+errors.Join(perrs...).Error()+"; nothing written", "")
		return nil
	}
	conn, err := e.conn(in, "postgres")
	if err != nil {
		e.fail([]int{i}, err)
		return e.stopIfPrimary(in, err)
	}
	err = e.replaceHBA(conn, in, i, w, candidate, lines)
	if err != nil {
		e.fail([]int{i}, err)
		return e.stopIfPrimary(in, err)
	}
	return nil
}

// replaceHBA is steps 2 to 7 of hba. It settles change i, or returns the
// session error of a failed step before anything was written.
func (e *executor) replaceHBA(conn *pgx.Conn, in *model.Instance, i int, w HBAWriter, candidate []byte, lines []hba.Line) error {
	msg, err := e.lockout(conn, in, lines)
	if err != nil {
		return err
	}
	if msg != "" {
		e.done(i, plan.StatusRefused, msg, "")
		return nil
	}
	var path string
	if err := conn.QueryRow(e.ctx, hbaFileSQL).Scan(&path); err != nil {
		return fmt.Errorf("read hba_file of %s: %w", in.Name(), err)
	}
	prev, info, err := w.Read(e.ctx, in, path)
	if err != nil {
		e.done(i, plan.StatusFailed, err.Error(), "")
		return nil
	}
	// From here on the file may change on disk: writing, checking,
	// reloading, probing and restoring run to the end even if the apply is
	// cancelled (SIGTERM past the grace, Ctrl-C), bounded by their own
	// timeout, so that a cancellation never leaves an unchecked candidate
	// on disk nor passes for a lockout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), hbaSettleTimeout)
	defer cancel()
	written := !bytes.Equal(prev, candidate)
	if !written {
		var loaded time.Time
		if err := conn.QueryRow(ctx, confLoadTimeSQL).Scan(&loaded); err != nil {
			return fmt.Errorf("read configuration load time of %s: %w", in.Name(), err)
		}
		if !info.ModTime.After(loaded) {
			e.done(i, plan.StatusSkipped, "pg_hba.conf already holds the candidate", "")
			return nil
		}
	} else if err := w.Write(ctx, in, path, candidate, info); err != nil {
		e.done(i, plan.StatusFailed, err.Error()+"; not reloaded", "")
		return nil
	}

	restore := func(why string) string {
		if !written {
			return why + "; the file on disk was already the candidate, nothing to restore"
		}
		if err := w.Write(ctx, in, path, prev, info); err != nil {
			e.log.Error("restore pg_hba.conf failed: the file on disk is the refused candidate",
				"cluster", e.cluster(), "instance", in.Name(), "path", path, "error", err)
			return why + "; restoring the previous file failed, the refused candidate is on disk: " + err.Error()
		}
		return why + "; previous file restored"
	}

	bad, err := e.checkHBAFile(ctx, conn, in, len(lines))
	switch {
	case err != nil:
		e.done(i, plan.StatusFailed, restore("cannot check the candidate: "+message(err))+", not reloaded", "")
		return nil
	case bad != "":
		e.done(i, plan.StatusFailed, restore("PostgreSQL rejects the candidate: "+bad)+", not reloaded", "")
		return nil
	}
	if err := e.reloadConf(ctx, in, conn); err != nil {
		e.done(i, plan.StatusFailed, restore("written, but "+err.Error()), "")
		return nil
	}
	probeErr := e.probe(ctx, in)
	if probeErr == nil {
		e.done(i, plan.StatusApplied, "", "")
		return nil
	}
	why := restore("reload locked out the reconciler (" + message(probeErr) + ")")
	if err := e.reloadConf(ctx, in, conn); err != nil {
		why += ", reload after restoring failed: " + err.Error()
	} else if err := e.probe(ctx, in); err != nil {
		why += ", reloaded, and logging in still fails: " + message(err)
	} else {
		why += " and reloaded"
	}
	e.done(i, plan.StatusFailed, why, "")
	return nil
}

// hbaSettleTimeout bounds write, check, reload, probe and restore of one
// pg_hba.conf once the apply may no longer stop half-way.
const hbaSettleTimeout = time.Minute

// checkHBAFile reads pg_hba_file_rules, which parses the file now on disk,
// and returns its error rows as "line N: message; …", or "".
func (e *executor) checkHBAFile(ctx context.Context, conn *pgx.Conn, in *model.Instance, want int) (string, error) {
	rows, _ := conn.Query(ctx, hbaFileRulesSQL)
	var r model.HBARow
	var bad []string
	n := 0
	_, err := pgx.ForEachRow(rows, []any{&r.Line, &r.Type, &r.Error}, func() error {
		n++
		if msg := hba.RowError(r); msg != "" {
			bad = append(bad, fmt.Sprintf("line %d: %s", r.Line, msg))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read pg_hba_file_rules of %s: %w", in.Name(), err)
	}
	if len(bad) == 0 && n != want {
		bad = append(bad, fmt.Sprintf("pg_hba_file_rules shows %d rules, the candidate has %d (did the file change meanwhile?)", n, want))
	}
	return strings.Join(bad, "; "), nil
}

// probe logs in to the instance with a fresh session, as the reconciler
// does (same user, address and TLS settings), to the database its session
// uses.
func (e *executor) probe(ctx context.Context, in *model.Instance) error {
	db := "postgres"
	if live := e.t.Live[in.Name()]; live != nil && live.Session.Database != "" {
		db = live.Session.Database
	}
	c, err := e.t.Dialer.Connect(ctx, in, db)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}
