package apply

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// quietSQL returns the SET LOCAL statements a password transaction runs
// first, in their own round trip, so that neither the statement with the
// hash nor an error about it reaches the server log, pg_stat_activity or
// pg_stat_statements (P12). log_min_messages matters as much as
// log_min_error_statement: a syntax error's ERROR line itself quotes the
// text near the error, the hash. These settings need a superuser (or, in
// PostgreSQL 15, GRANT SET ON PARAMETER); without it the transaction fails
// before any hash is sent.
func (e *executor) quietSQL() string {
	q := `SET LOCAL log_statement = 'none';
SET LOCAL log_min_messages = 'panic';
SET LOCAL log_min_error_statement = 'panic';
SET LOCAL log_min_duration_statement = -1;
SET LOCAL log_min_duration_sample = -1;
SET LOCAL track_activities = off`
	if e.facts.pgssTracksUtility {
		q += ";\n" + untrackedSQL
	}
	return q
}

// password executes a change holding a password in its own transaction on
// the primary. The plaintext is hashed here; only the hash is sent, as a
// literal, after the SET LOCALs of quietSQL have taken effect. A failure
// never shows the hash: PostgreSQL's message is scrubbed of it.
func (e *executor) password(i int) error {
	c := &e.cp.Changes[i]
	db := dbName(c.Statements[0].Database)
	var sqls, secrets []string
	for _, s := range c.Statements {
		if s.NoTx || dbName(s.Database) != db {
			e.done(i, plan.StatusFailed, "a password change must run in one transaction in one database", "")
			return nil
		}
		if s.Password.IsZero() {
			sqls = append(sqls, s.SQL)
			continue
		}
		sql, hash, err := withPassword(s)
		if err != nil {
			e.done(i, plan.StatusFailed, err.Error(), "")
			return nil
		}
		sqls = append(sqls, sql)
		secrets = append(secrets, s.Password.Reveal(), hash)
	}
	err := e.passwordTx(db, sqls, i)
	if err == nil {
		return nil
	}
	e.done(i, plan.StatusFailed, scrub(message(err), secrets), dbconn.SQLState(err))
	if isFatal(err) {
		return fmt.Errorf("password of %s on %s: %s", c.Object, e.primary.Name(), scrub(err.Error(), secrets))
	}
	return nil
}

// passwordTx runs sqls in a quiet transaction; in the postgres database
// the change-log row of change i commits with it.
func (e *executor) passwordTx(db string, sqls []string, i int) error {
	inTxLog := db == "postgres"
	if inTxLog {
		if err := e.ensureChangeLog(); err != nil { // before BEGIN: the same session
			return err
		}
	}
	conn, err := e.conn(e.primary, db)
	if err != nil {
		return err
	}
	if e.facts.sampled { // decided when a transaction starts: SET LOCAL would be too late
		if _, err := conn.Exec(e.ctx, "SET log_transaction_sample_rate = 0"); err != nil {
			return err
		}
	}
	tx, err := conn.Begin(e.ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(e.ctx) // no-op after Commit
	if _, err := conn.Exec(e.ctx, e.quietSQL()); err != nil {
		return err
	}
	for _, sql := range sqls {
		if _, err := conn.Exec(e.ctx, sql); err != nil {
			return err
		}
	}
	if inTxLog {
		e.set(i, plan.StatusApplied, "", "")
		if err := writeChangeLog(e.ctx, tx, append(e.pending, e.logRow(i))); err != nil {
			return err
		}
	}
	if err := tx.Commit(e.ctx); err != nil {
		return err
	}
	e.set(i, plan.StatusApplied, "", "")
	e.report(i)
	if inTxLog {
		e.pending = nil
	} else {
		e.queueLog(i)
	}
	return nil
}

// withPassword returns the statement with its placeholder replaced by the
// quoted hash of its password, and the hash.
func withPassword(s plan.Statement) (sql, hash string, err error) {
	if strings.Count(s.SQL, plan.PasswordPlaceholder) != 1 {
		return "", "", errors.New("password statement must hold the password placeholder exactly once")
	}
	pw := s.Password.Reveal()
	switch s.Password.Kind() {
	case model.SecretSCRAM, model.SecretMD5:
		hash = pw
	case model.SecretPlaintext:
		if strings.EqualFold(s.PasswordEncryption, "md5") {
			if s.PasswordRole == "" {
				return "", "", errors.New("md5 password without a role name to salt it with")
			}
			hash = scram.MD5(pw, s.PasswordRole)
			break
		}
		if hash, err = scram.New(pw, rand.Reader); err != nil {
			return "", "", fmt.Errorf("compute SCRAM verifier: %w", err)
		}
	default:
		return "", "", errors.New("empty password")
	}
	return strings.Replace(s.SQL, plan.PasswordPlaceholder, quoteLiteral(hash), 1), hash, nil
}

// quoteLiteral quotes s as an SQL string literal that reads the same
// whatever standard_conforming_strings says (quote_literal's rules).
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// scrub removes every secret, and every longer part of a hash (salt,
// StoredKey, ServerKey), from an error message.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, model.Redacted)
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '$' || r == ':' }) {
			if len(part) >= 8 {
				msg = strings.ReplaceAll(msg, part, model.Redacted)
			}
		}
	}
	return msg
}
