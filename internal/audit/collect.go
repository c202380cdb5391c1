package audit

import (
	"context"
	"crypto/x509"
	"embed"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// sqlFiles holds the collector's catalog queries, one statement per file.
//
//go:embed sql/*.sql
var sqlFiles embed.FS

// query returns the text of sql/<name>.sql. Every name is a constant of
// this package, so a missing file is a build mistake caught by any test.
func query(name string) string {
	b, err := sqlFiles.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic(fmt.Sprintf("audit: missing embedded query %s: %v", name, err))
	}
	return string(b)
}

// auditedParams are the server parameters the checks read (besides those
// of pgaudit, credcheck, passwordcheck and auth_delay). None holds a
// secret; archive_command is shown by its program only.
func auditedParams() []string {
	return []string{
		"password_encryption", "shared_preload_libraries",
		"log_min_messages", "log_destination", "logging_collector", "log_directory", "log_file_mode",
		"log_connections", "log_disconnections", "log_statement", "log_lock_waits",
		"log_replication_commands", "log_min_duration_statement",
		"ssl", "ssl_min_protocol_version", "ssl_cert_file", "ssl_ca_file",
		"data_checksums", "archive_mode", "archive_command", "archive_library",
		"listen_addresses", "port",
	}
}

// Collector reads the evidence of live instances. Its zero value is not
// usable: Connect is required.
type Collector struct {
	// Connect opens a session to a database of an instance (the
	// reconciler's dbconn.Dialer.Connect).
	Connect func(ctx context.Context, in *model.Instance, database string) (*pgx.Conn, error)
	// Dial opens the TCP connection of the TLS handshake; default: a
	// net.Dialer with a 10 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Roots, when set, are the CAs the server certificate must chain to;
	// RootsName names them in the evidence (a file name).
	Roots     *x509.CertPool
	RootsName string
	// Since, when not zero, has the primary's change log read from then on.
	Since time.Time
	// Now is the collector's clock (certificate validity); default time.Now.
	Now func() time.Time
	// Pooler and Patroni, when set, read what the PgBouncer and the
	// Patroni of an instance enforce (PoolerFrom, PatroniFrom); unset,
	// their checks are unknown.
	Pooler  func(ctx context.Context, in *model.Instance) *Pooler
	Patroni func(ctx context.Context, cl *model.Cluster, in *model.Instance) *Patroni
}

// session is round trip 1.
type session struct {
	Session
	authid, hbaRules, hbaStat bool
	hbaFile                   string
	confLoaded                time.Time
	changeLog                 *bool // nil: no change log
}

// Collect reads one instance. It never fails: what cannot be read is in
// Evidence.Err (nothing at all) or Evidence.Unread (a part).
func (c *Collector) Collect(ctx context.Context, cl *model.Cluster, in *model.Instance) *Evidence {
	e := &Evidence{Cluster: cl.Name, Instance: in.Name(), Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Port))}
	e.TLS = c.probeTLS(ctx, in)
	if c.Pooler != nil {
		e.Pooler = c.Pooler(ctx, in)
	}
	if c.Patroni != nil {
		e.Patroni = c.Patroni(ctx, cl, in)
	}
	conn, err := c.Connect(ctx, in, "postgres")
	if err != nil {
		e.Err = err.Error() // dbconn's errors never carry the password
		return e
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var s session
	err = conn.QueryRow(ctx, query("session")).Scan(&s.Version, &s.InRecovery, &s.Now, &s.User, &s.Superuser, &s.SSL,
		&s.authid, &s.hbaRules, &s.hbaFile, &s.confLoaded, &s.hbaStat, &s.changeLog)
	if err != nil {
		e.Err = fmt.Sprintf("read session on %s: %v", in.Name(), err)
		return e
	}
	e.Session = s.Session
	c.readCatalogs(ctx, conn, &s, e)
	resolveOwnSettings(ctx, conn, e)
	return e
}

// part is one query of round trip 2; name is its file and its key in
// Evidence.Unread.
type part struct {
	name string
	args []any
	scan func(pgx.Rows) error
	done bool
}

// readCatalogs runs round trip 2: one batch of the queries the session may
// run. A query that fails anyway aborts the batch's implicit transaction;
// the queries not done then run one by one, and each failure is recorded
// for its part alone.
func (c *Collector) readCatalogs(ctx context.Context, conn *pgx.Conn, s *session, e *Evidence) {
	names := auditedParams()
	parts := []*part{
		{name: "settings", args: []any{names}, scan: func(r pgx.Rows) (err error) { e.Settings, err = scanSettings(r); return }},
		{name: "overrides", args: []any{names}, scan: func(r pgx.Rows) (err error) { e.Overrides, err = scanOverrides(r); return }},
		{name: "roles", scan: func(r pgx.Rows) (err error) { e.Roles, err = scanRoles(r); return }},
		{name: "archiver", scan: func(r pgx.Rows) (err error) { e.Archiver, err = scanArchiver(r); return }},
		{name: "replication", scan: func(r pgx.Rows) (err error) { e.Replicas, err = scanReplicas(r); return }},
	}
	var verifiers map[string]string
	if s.authid {
		parts = append(parts, &part{name: "verifiers", scan: func(r pgx.Rows) (err error) { verifiers, err = scanVerifiers(r); return }})
	} else {
		e.unread("verifiers", "pg_authid is readable by superusers only, and "+s.User+" is not one")
	}
	if s.hbaRules {
		e.HBA = &HBA{File: s.hbaFile, Loaded: s.confLoaded}
		parts = append(parts, &part{name: "hba", scan: func(r pgx.Rows) (err error) { e.HBA.Rows, err = scanHBA(r); return }})
		if s.hbaStat {
			parts = append(parts, &part{name: "hba_modified", scan: func(r pgx.Rows) error { return scanOne(r, &e.HBA.Modified) }})
		}
	} else {
		e.unread("hba", "pg_hba_file_rules is readable by superusers only, and "+s.User+" is not one")
	}
	switch {
	case c.Since.IsZero() || s.InRecovery:
	case s.changeLog == nil:
		e.ChangeLog = []ChangeRow{} // no change log: nothing was ever applied here
	case !*s.changeLog:
		e.unread("change_log", s.User+" may not read pgreconciler.change_log (grant it SELECT, and USAGE on the schema)")
	default:
		parts = append(parts, &part{name: "change_log", args: []any{c.Since}, scan: func(r pgx.Rows) (err error) { e.ChangeLog, err = scanChangeLog(r); return }})
	}
	runParts(ctx, conn, parts, e)
	if e.HBA != nil && e.HBA.Rows == nil {
		e.HBA = nil
	}
	if verifiers != nil {
		for i := range e.Roles {
			e.Roles[i].Verifier = verifiers[e.Roles[i].Name]
		}
		e.Verifiers = e.Roles != nil
	}
}

func runParts(ctx context.Context, conn *pgx.Conn, parts []*part, e *Evidence) {
	b := &pgx.Batch{}
	for _, p := range parts {
		b.Queue(query(p.name), p.args...).Query(func(rows pgx.Rows) error {
			if err := p.scan(rows); err != nil {
				return err
			}
			p.done = true
			return nil
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err == nil {
		return
	}
	for _, p := range parts {
		if p.done {
			continue
		}
		rows, err := conn.Query(ctx, query(p.name), p.args...)
		if err == nil {
			err = p.scan(rows)
		}
		if err != nil {
			e.unread(p.name, fmt.Sprintf("read %s: %v", p.name, err))
		}
	}
}

func scanOne[T any](rows pgx.Rows, dst *T) error {
	var v T
	_, err := pgx.ForEachRow(rows, []any{&v}, func() error { *dst = v; return nil })
	return err
}

func scanSettings(rows pgx.Rows) (map[string]Setting, error) {
	out := map[string]Setting{}
	var name string
	var st Setting
	_, err := pgx.ForEachRow(rows, []any{&name, &st.Value, &st.Unit, &st.VarType, &st.EnumVals, &st.Source, &st.PendingRestart}, func() error {
		out[name] = st
		return nil
	})
	return out, err
}

func scanOverrides(rows pgx.Rows) ([]Override, error) {
	var out []Override
	var o Override
	_, err := pgx.ForEachRow(rows, []any{&o.Role, &o.Database, &o.Name, &o.Value}, func() error {
		out = append(out, o)
		return nil
	})
	return out, err
}

func scanRoles(rows pgx.Rows) ([]Role, error) {
	out := []Role{}
	var r Role
	var until pgtype.Timestamptz
	_, err := pgx.ForEachRow(rows, []any{&r.Name, &r.Login, &r.Superuser, &r.CreateRole, &r.CreateDB, &r.Replication,
		&r.BypassRLS, &until, &r.MemberOf}, func() error {
		rr := r
		rr.ValidUntil, rr.Infinity = nil, false
		switch {
		case !until.Valid:
		case until.InfinityModifier == pgtype.Infinity:
			rr.Infinity = true
		case until.InfinityModifier == pgtype.NegativeInfinity:
			t := time.Time{} // -infinity: expired for ever
			rr.ValidUntil = &t
		default:
			t := until.Time
			rr.ValidUntil = &t
		}
		rr.MemberOf = append([]string(nil), r.MemberOf...)
		out = append(out, rr)
		return nil
	})
	return out, err
}

func scanVerifiers(rows pgx.Rows) (map[string]string, error) {
	out := map[string]string{}
	var name, kind string
	_, err := pgx.ForEachRow(rows, []any{&name, &kind}, func() error {
		out[name] = kind
		return nil
	})
	return out, err
}

func scanHBA(rows pgx.Rows) ([]model.HBARow, error) {
	out := []model.HBARow{}
	var r model.HBARow
	_, err := pgx.ForEachRow(rows, []any{&r.Line, &r.Type, &r.Database, &r.User, &r.Address, &r.Netmask,
		&r.AuthMethod, &r.Options, &r.Error}, func() error {
		rr := r
		rr.Database = append([]string(nil), r.Database...)
		rr.User = append([]string(nil), r.User...)
		rr.Options = append([]string(nil), r.Options...)
		out = append(out, rr)
		return nil
	})
	return out, err
}

func scanArchiver(rows pgx.Rows) (*Archiver, error) {
	var a Archiver
	_, err := pgx.ForEachRow(rows, []any{&a.ArchivedCount, &a.LastArchivedWAL, &a.LastArchivedTime,
		&a.FailedCount, &a.LastFailedWAL, &a.LastFailedTime}, func() error { return nil })
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func scanReplicas(rows pgx.Rows) ([]Replica, error) {
	var out []Replica
	var r Replica
	_, err := pgx.ForEachRow(rows, []any{&r.Name, &r.Addr, &r.State, &r.SyncState}, func() error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func scanChangeLog(rows pgx.Rows) ([]ChangeRow, error) {
	out := []ChangeRow{}
	var r ChangeRow
	_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.At, &r.Cluster, &r.Instance, &r.Kind, &r.Action, &r.Object,
		&r.Commit, &r.Signer, &r.Author, &r.Status, &r.What}, func() error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// serverSource reports whether pg_settings.source says the value is the
// server's, not the collector's session's own (startup packet, SET,
// ALTER ROLE / DATABASE … SET of the collector's role or database).
func serverSource(source string) bool {
	switch source {
	case "default", "environment variable", "configuration file", "command line", "override":
		return true
	}
	return false
}

// resolveOwnSettings replaces the values the collector's own session runs
// with the server's, worked out by package inspect (configuration files,
// the postmaster's command line, boot values), or marks them unknown.
func resolveOwnSettings(ctx context.Context, conn *pgx.Conn, e *Evidence) {
	for name, st := range e.Settings {
		if serverSource(st.Source) {
			continue
		}
		st.Own = true
		ls, err := inspect.ReadSetting(ctx, conn, name)
		switch {
		case err != nil:
			st.Unknown = fmt.Sprintf("the collector's session runs its own value (source %s), and the server's could not be read: %v", st.Source, err)
		case ls == nil:
			st.Unknown = "the parameter vanished while it was read"
		case ls.Unknown != "":
			st.Unknown = ls.Unknown
		default:
			st.Value, st.Source = ls.Setting, ls.Source
		}
		e.Settings[name] = st
	}
}
