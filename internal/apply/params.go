package apply

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// reloadTimeout bounds the wait for a reload to reach the session.
const reloadTimeout = 30 * time.Second

// parameters executes consecutive parameter changes, instance by instance
// (in order of first appearance), each instance reloaded once (promise P11; docs/promises.md).
func (e *executor) parameters(idx []int) error {
	var order []string
	by := map[string][]int{}
	for _, i := range idx {
		n := e.cp.Changes[i].Instance
		if _, ok := by[n]; !ok {
			order = append(order, n)
		}
		by[n] = append(by[n], i)
	}
	for _, n := range order {
		if err := e.instanceParameters(e.t.Cluster.Instance(n), by[n]); err != nil {
			return err
		}
	}
	return nil
}

// written is a parameter written with ALTER SYSTEM, to be read back.
type written struct {
	i int
	s *model.LiveSetting
}

// instanceParameters validates each value against the instance's own
// pg_settings right before writing it, writes it with ALTER SYSTEM (one
// Exec, outside any transaction), reloads once, and reads every value back.
// It never restarts the server: a postmaster parameter is reported Pending.
// The statement executed is built from Change.Parameter, the value that was
// validated; the plan's statement text is for display.
func (e *executor) instanceParameters(in *model.Instance, idx []int) error {
	conn, err := e.conn(in, "postgres")
	if err != nil {
		e.fail(idx, err)
		return e.stopIfPrimary(in, err)
	}
	var ws []written
	for _, i := range idx {
		w, err := e.writeParameter(conn, in, i)
		if err != nil {
			e.fail([]int{i}, err)
			if isFatal(err) {
				e.failWritten(ws, "written to postgresql.auto.conf but not reloaded", err)
				e.fail(idx, err)
				return e.stopIfPrimary(in, err)
			}
			continue
		}
		if w != nil {
			ws = append(ws, *w)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	if err := e.reloadConf(e.ctx, in, conn); err != nil {
		e.failWritten(ws, "written to postgresql.auto.conf but not reloaded", err)
		return e.stopIfPrimary(in, err)
	}
	for _, w := range ws {
		if err := e.readBack(conn, in, w); err != nil {
			e.fail([]int{w.i}, err)
			if isFatal(err) {
				e.failWritten(ws, "written and reloaded, but not read back", err)
				return e.stopIfPrimary(in, err)
			}
		}
	}
	return nil
}

// failWritten fails the written changes not settled yet; what says how far
// they got (the value written stays in postgresql.auto.conf).
func (e *executor) failWritten(ws []written, what string, err error) {
	for _, w := range ws {
		if e.res.Outcomes[w.i].Status == 0 {
			e.done(w.i, plan.StatusFailed, what+": "+message(err), dbconn.SQLState(err))
		}
	}
}

// stopIfPrimary turns a session failure on the primary into a fatal error;
// a replica's failure only fails its own changes.
func (e *executor) stopIfPrimary(in *model.Instance, err error) error {
	if isFatal(err) && in.Name() == e.primary.Name() {
		return err
	}
	return nil
}

// writeParameter checks and writes the parameter of change i. It returns
// nil, nil when the change was settled without writing (refused).
func (e *executor) writeParameter(conn *pgx.Conn, in *model.Instance, i int) (*written, error) {
	p := e.cp.Changes[i].Parameter
	if p == nil {
		return nil, errors.New("parameter change without a parameter")
	}
	s, err := inspect.ReadSetting(e.ctx, conn, p.Name)
	if err != nil {
		return nil, fmt.Errorf("read pg_settings of %s on %s: %w", p.Name, in.Name(), err)
	}
	if s == nil {
		e.done(i, plan.StatusRefused, fmt.Sprintf("unrecognized configuration parameter %q on %s", p.Name, in.Name()), "")
		return nil, nil
	}
	name := pgx.Identifier{s.Name}.Sanitize()
	sql := "ALTER SYSTEM RESET " + name
	if !p.Reset {
		value := p.Value.Reveal()
		if err := pgconf.Validate(value, s); err != nil {
			e.done(i, plan.StatusRefused, fmt.Sprintf("refused value for %s on %s: %v", s.Name, in.Name(), err), "")
			return nil, nil
		}
		if s.Name == "shared_preload_libraries" {
			if msg := e.checkLibraries(conn, in, value, s); msg != "" {
				e.done(i, plan.StatusRefused, msg, "")
				return nil, nil
			}
		}
		sql = "ALTER SYSTEM SET " + name + " = " + pgconf.QuoteSetting(value, s)
	}
	if pgconf.MaySecret(s.Name) && !p.Reset {
		// The value may hold a credential: keep the statement out of the
		// server log, pg_stat_activity and pg_stat_statements.
		set, reset := e.quietSession()
		if _, err := conn.Exec(e.ctx, set); err != nil {
			return nil, fmt.Errorf("keep %s out of the server log on %s: %w", s.Name, in.Name(), err)
		}
		defer func() { _, _ = conn.Exec(context.WithoutCancel(e.ctx), reset) }()
	}
	if _, err := conn.Exec(e.ctx, sql); err != nil { // no arguments: simple protocol, no transaction block
		return nil, err
	}
	return &written{i: i, s: s}, nil
}

// readBack checks that a written parameter is live after the reload, or
// waits for a restart (Pending), and settles its change. Live means the
// server's value (inspect.ReadSetting), not this session's: the session
// may run a value of its own (the dialer's timeouts, ALTER ROLE … SET), or
// one fixed when it started.
func (e *executor) readBack(conn *pgx.Conn, in *model.Instance, w written) error {
	p := e.cp.Changes[w.i].Parameter
	value := p.Value.Reveal()
	s, err := inspect.ReadSetting(e.ctx, conn, w.s.Name)
	if err != nil {
		return fmt.Errorf("read back %s on %s: %w", w.s.Name, in.Name(), err)
	}
	if s == nil {
		e.done(w.i, plan.StatusFailed, "written, but the server no longer knows the parameter", "")
		return nil
	}
	inFile := s.FileValue != nil && (p.Reset || pgconf.Equal(*s.FileValue, value, s))
	fileErr := "the configuration files do not hold the value"
	if s.FileError != "" {
		fileErr = s.FileError
	}
	switch {
	case p.Reset:
		if s.FileError != "" && !pgconf.RequiresRestart(s) {
			e.done(w.i, plan.StatusFailed, "reset but not live: "+fileErr, "")
			return nil
		}
		e.res.Outcomes[w.i].Pending = s.PendingRestart
	case pgconf.RequiresRestart(s):
		if !inFile && !pgconf.Equal(s.Setting, value, s) {
			e.done(w.i, plan.StatusFailed, "written but not in the configuration files: "+fileErr, "")
			return nil
		}
		e.res.Outcomes[w.i].Pending = s.PendingRestart
	case s.Unknown != "":
		e.done(w.i, plan.StatusFailed, "written and reloaded, but the server's value cannot be told: "+s.Unknown, "")
		return nil
	case pgconf.Equal(s.Setting, value, s):
	default:
		if s.FileError == "" {
			fileErr = "the server runs " + shownSetting(s.Name, s.Setting) + " (source " + s.Source + ")"
		}
		e.done(w.i, plan.StatusFailed, "written but not live: "+fileErr, "")
		return nil
	}
	e.done(w.i, plan.StatusApplied, "", "")
	return nil
}

// shownSetting is a pg_settings value as an error may quote it: not at all
// when it may hold a credential (pgconf.MaySecret).
func shownSetting(name, setting string) string {
	if pgconf.MaySecret(name) {
		return "another value"
	}
	return strconv.Quote(setting)
}

// reloadConf makes the server reload its configuration files and waits
// until this session has processed the reload. The postmaster re-reads the
// files before it signals the backends, so new sessions and the
// postmaster's pg_hba.conf rules are then reloaded too.
// reload, when set, asks for the reload instead of pg_reload_conf().
func reloadConf(ctx context.Context, conn *pgx.Conn, reload func(context.Context) error) error {
	var before time.Time
	if err := conn.QueryRow(ctx, confLoadTimeSQL).Scan(&before); err != nil {
		return fmt.Errorf("read configuration load time: %w", err)
	}
	if reload != nil {
		if err := reload(ctx); err != nil {
			return fmt.Errorf("reload configuration: %w", err)
		}
	} else if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload configuration: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	for {
		var reloaded bool
		err := conn.QueryRow(ctx, reloadedSinceSQL, before).Scan(&reloaded)
		if err != nil {
			return fmt.Errorf("wait for the reload: %w", err)
		}
		if reloaded {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the reload: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
