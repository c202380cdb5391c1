package apply

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// step is a part of a change that PostgreSQL runs on its own: one NoTx
// statement (CREATE/DROP DATABASE …) outside any transaction, or
// consecutive statements with the same Statement.Database in one
// transaction. In Pigsty's role removal, ALTER ROLE … NOLOGIN and the
// session termination (Database "") come before, and DROP ROLE after, the
// REASSIGN OWNED + DROP OWNED pair of each database, which is one step.
type step struct {
	database string // as the plan says; "" is postgres
	noTx     bool
	stmts    []plan.Statement
}

func stepsOf(stmts []plan.Statement) []step {
	var out []step
	for _, s := range stmts {
		if n := len(out); n > 0 && !s.NoTx && !out[n-1].noTx && out[n-1].database == s.Database {
			out[n-1].stmts = append(out[n-1].stmts, s)
			continue
		}
		out = append(out, step{database: s.Database, noTx: s.NoTx, stmts: []plan.Statement{s}})
	}
	return out
}

// steps executes a change that cannot be one transaction, step by step on
// the primary, and stops at the first failing step (the steps before it
// stay committed; the next plan starts from there). A role removal is
// first checked against pg_database: a role that owns a database is never
// dropped (promise P8; docs/promises.md).
func (e *executor) steps(i int) error {
	c := &e.cp.Changes[i]
	if c.Kind == plan.KindRole && c.Action == plan.ActionRemove {
		dbs, err := e.ownedDatabases(c.Role.Name) // refusal: a removal has its role
		if err != nil {
			e.fail([]int{i}, err)
			if isFatal(err) {
				return e.resume("postgres", err)
			}
			return nil
		}
		if len(dbs) > 0 {
			e.done(i, plan.StatusRefused, fmt.Sprintf("role %s owns database(s) %s: give them another owner before removing it",
				c.Role.Name, strings.Join(dbs, ", ")), "")
			return nil
		}
	}
	if err := e.intend(i); err != nil {
		e.fail([]int{i}, err)
		return err
	}
	steps := stepsOf(c.Statements)
	for k, s := range steps {
		failing, err := e.runStep(c, s)
		if err == nil {
			continue
		}
		msg := fmt.Sprintf("step %d of %d (%s, database %s) failed: %s",
			k+1, len(steps), s.stmts[failing].String(), dbName(s.database), message(err))
		switch {
		case k == 1:
			msg += "; step 1 is committed"
		case k > 1:
			msg += fmt.Sprintf("; steps 1 to %d are committed", k)
		}
		e.done(i, plan.StatusFailed, msg, dbconn.SQLState(err))
		if isFatal(err) {
			if err := e.resume(dbName(s.database), err); err != nil {
				return fmt.Errorf("%s on %s: %w", c.Object, e.primary.Name(), err)
			}
		}
		return nil
	}
	e.done(i, plan.StatusApplied, "", "")
	return nil
}

// runStep executes one step and returns the index of the failing statement
// with its error.
func (e *executor) runStep(c *plan.Change, s step) (int, error) {
	db := dbName(s.database)
	if s.noTx && c.Kind == plan.KindDatabase {
		e.closeOthers(e.primary, db)
	}
	conn, err := e.conn(e.primary, db)
	if err != nil {
		return 0, err
	}
	if s.noTx {
		_, err := conn.Exec(e.ctx, s.stmts[0].SQL) // no arguments: simple protocol, no transaction block
		return 0, err
	}
	sqls := make([]string, len(s.stmts))
	for k, st := range s.stmts {
		sqls[k] = st.SQL
	}
	tx, err := conn.Begin(e.ctx)
	if err != nil {
		return 0, err
	}
	n, err := execMulti(e.ctx, conn, joinSQL(sqls))
	if err != nil {
		_ = tx.Rollback(e.ctx)
		return min(n, len(sqls)-1), err
	}
	return len(sqls) - 1, tx.Commit(e.ctx)
}

// ownedDatabases lists the databases role owns.
func (e *executor) ownedDatabases(role string) ([]string, error) {
	conn, err := e.conn(e.primary, "postgres")
	if err != nil {
		return nil, err
	}
	var dbs []string
	err = conn.QueryRow(e.ctx, ownedDatabasesSQL, role).Scan(&dbs)
	if err != nil {
		return nil, fmt.Errorf("list databases owned by %s on %s: %w", role, e.primary.Name(), err)
	}
	return dbs, nil
}
