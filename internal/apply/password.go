package apply

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// quietSettings keep a statement, and any error about it, out of the
// server log and pg_stat_activity (promise P12; docs/promises.md). log_min_messages matters as much
// as log_min_error_statement: a syntax error's ERROR line itself quotes the
// text near the error, the secret. They need a superuser (or, in
// PostgreSQL 15, GRANT SET ON PARAMETER); without it the SET fails before
// any secret is sent.
var quietSettings = [][2]string{
	{"log_statement", "'none'"},
	{"log_min_messages", "'panic'"},
	{"log_min_error_statement", "'panic'"},
	{"log_min_duration_statement", "-1"},
	{"log_min_duration_sample", "-1"},
	{"track_activities", "off"},
}

// quietSQL returns the SET LOCAL statements a password transaction runs
// first, in their own round trip: quietSettings, and, where
// pg_stat_statements tracks utility statements, that off too.
func (e *executor) quietSQL() string {
	var q []string
	for _, kv := range quietSettings {
		q = append(q, "SET LOCAL "+kv[0]+" = "+kv[1])
	}
	if e.facts.pgssTracksUtility {
		q = append(q, untrackedSQL)
	}
	return strings.Join(q, ";\n")
}

// quietSession is quietSQL for a statement that cannot run in a
// transaction (ALTER SYSTEM of a parameter that may hold a credential):
// session-level SETs, and the RESETs that undo them.
func (e *executor) quietSession() (set, reset string) {
	var s, r []string
	for _, kv := range quietSettings {
		s = append(s, "SET "+kv[0]+" = "+kv[1])
		r = append(r, "RESET "+kv[0])
	}
	if e.facts.pgssTracksUtility {
		s = append(s, "SET pg_stat_statements.track_utility = off")
		r = append(r, "RESET pg_stat_statements.track_utility")
	}
	return strings.Join(s, ";\n"), strings.Join(r, ";\n")
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
		if err := e.resume(db, err); err != nil {
			return fmt.Errorf("password of %s on %s: %s", c.Object, e.primary.Name(), scrub(err.Error(), secrets))
		}
	}
	return nil
}

// passwordTx runs sqls in a quiet transaction; in the postgres database
// the change-log row of change i commits with it.
func (e *executor) passwordTx(db string, sqls []string, i int) error {
	inTxLog := db == "postgres"
	if inTxLog {
		if err := e.ensureChangeLog(e.ctx); err != nil { // before BEGIN: the same session
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
	return strings.Replace(s.SQL, plan.PasswordPlaceholder, pgconf.QuoteLiteral(hash), 1), hash, nil
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
