package apply

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// victim is a connection a new pg_hba.conf must keep letting in (promise P10; docs/promises.md).
type victim struct {
	conn hba.Conn
	who  string // "replicator replication from 127.0.0.2 (ssl)"
}

// lockout simulates PostgreSQL's first match over the candidate lines for
// every connection that must survive the change, and returns why the
// candidate is refused, or "". The connections are:
//
//   - the dbsu over the local socket to postgres (Pigsty's "${dbsu} local
//     ident" rule; ident and peer count as allowing): Patroni's own;
//   - the replication user's replication connection from the address of
//     every other member of the cluster, connected now or not (a replica
//     that is down, or the old primary after a switchover, must get back
//     in), with SSL when the server offers it (libpq's default sslmode
//     prefer then uses it);
//   - every replication client connected to the instance right now, as it
//     is connected;
//   - the reconciler's own sessions (as inspect saw it and as it is now) to
//     every database they enter on the instance: on the primary, postgres
//     and every managed database that allows connections (inspect reads
//     and apply writes inside them), elsewhere postgres.
//
// Group membership for +group lines is read fresh, transitively and
// without counting superuser status, as PostgreSQL 15 matches it. A line
// the simulator cannot decide (samehost, samenet, host names, @file)
// blocks only when it is the deciding line.
func (e *executor) lockout(conn *pgx.Conn, in *model.Instance, lines []hba.Line) (string, error) {
	vs, err := e.victims(conn, in)
	if err != nil {
		return "", err
	}
	users := make([]string, 0, len(vs))
	for _, v := range vs {
		users = append(users, v.conn.User)
	}
	member, err := e.membership(conn, users)
	if err != nil {
		return "", err
	}
	var problems []string
	for _, v := range vs {
		idx, l, undecided := hba.Match(lines, v.conn, member)
		if l == nil {
			problems = append(problems, "no line would allow "+v.who)
			continue
		}
		n := l.Number
		if n == 0 {
			n = idx + 1
		}
		text := strings.Join(strings.Fields(l.String()), " ")
		switch {
		case undecided:
			problems = append(problems, fmt.Sprintf("line %d %q decides for %s, but only the server can evaluate it (samehost, samenet, a host name or @file)", n, text, v.who))
		case l.Method == "reject":
			problems = append(problems, fmt.Sprintf("line %d %q would reject %s", n, text, v.who))
		}
	}
	if len(problems) == 0 {
		return "", nil
	}
	return "lockout guard: " + strings.Join(problems, "; ") + "; nothing written", nil
}

// victims lists the connections that must stay allowed on in.
func (e *executor) victims(conn *pgx.Conn, in *model.Instance) ([]victim, error) {
	dbsu := e.dbsu()
	vs := []victim{{hba.Conn{Local: true, Database: "postgres", User: dbsu}, dbsu + " (dbsu) to database postgres over the local socket"}}
	seen := map[string]bool{}
	add := func(v victim) {
		if !seen[v.who] {
			seen[v.who] = true
			vs = append(vs, v)
		}
	}

	var clients []model.ReplicationClient
	var logicalDB []string // database of a logical walsender, "" for physical
	live := e.t.Live[in.Name()]
	if live != nil {
		clients = append(clients, live.Replication...)
		logicalDB = make([]string, len(clients))
	}
	rows, _ := conn.Query(e.ctx, replicationClientsSQL)
	var c model.ReplicationClient
	var db string
	_, err := pgx.ForEachRow(rows, []any{&c.User, &c.ClientAddr, &c.SSL, &db}, func() error {
		clients = append(clients, c)
		logicalDB = append(logicalDB, db)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read replication clients of %s: %w", in.Name(), err)
	}
	for k, c := range clients {
		hc, from := connOf(c.User, logicalDB[k], c.ClientAddr, c.SSL)
		if logicalDB[k] == "" {
			hc.Replication = true
			add(victim{hc, c.User + " replication " + from})
		} else {
			add(victim{hc, c.User + " logical replication to database " + logicalDB[k] + " " + from})
		}
	}

	var sessions []model.Session
	if live != nil && live.Session.User != "" {
		sessions = append(sessions, live.Session)
	}
	var own model.Session
	var ssl bool
	err = conn.QueryRow(e.ctx, ownSessionSQL).Scan(&own.User, &own.Database, &own.ClientAddr, &own.SSL, &ssl)
	if err != nil {
		return nil, fmt.Errorf("read own session on %s: %w", in.Name(), err)
	}
	sessions = append(sessions, own)
	for _, s := range sessions {
		for _, db := range append([]string{s.Database}, e.enteredDatabases(in)...) {
			hc, from := connOf(s.User, db, s.ClientAddr, s.SSL)
			add(victim{hc, s.User + " (the reconciler's own connection) to database " + db + " " + from})
		}
	}

	if repl := e.t.Cluster.Globals.ReplicationUser; repl != "" {
		for _, m := range e.t.Cluster.Instances {
			if m.Name() == in.Name() {
				continue
			}
			hc, from := connOf(repl, "", m.IP, ssl)
			hc.Replication = true
			add(victim{hc, repl + " replication from member " + m.Name() + " " + from})
		}
	}
	return vs, nil
}

// enteredDatabases are the databases the reconciler's sessions enter on
// in: on the primary, every managed database that allows connections;
// elsewhere postgres.
func (e *executor) enteredDatabases(in *model.Instance) []string {
	if in.Role != model.RolePrimary {
		return []string{"postgres"}
	}
	closed := map[string]bool{}
	for _, d := range e.t.Cluster.Databases {
		closed[d.Name] = d.AllowConn != nil && !*d.AllowConn
	}
	var out []string
	for _, name := range e.t.Cluster.ManagedDatabases() {
		if !closed[name] {
			out = append(out, name)
		}
	}
	return out
}

// connOf describes a client as check_hba sees it: a TCP client from addr,
// or a Unix socket client when addr is empty.
func connOf(user, database, addr string, ssl bool) (hba.Conn, string) {
	c := hba.Conn{User: user, Database: database, SSL: ssl}
	ip, err := netip.ParseAddr(addr)
	if addr == "" || err != nil {
		c.Local = true
		return c, "over the local socket"
	}
	c.Addr = ip.Unmap()
	if ssl {
		return c, "from " + addr + " (ssl)"
	}
	return c, "from " + addr + " (no ssl)"
}

// membership reads, for users, every role they are a member of, directly
// or through other roles, whatever the INHERIT flags, superuser status not
// counted: what PostgreSQL 15 matches +group and samerole against.
func (e *executor) membership(conn *pgx.Conn, users []string) (hba.Membership, error) {
	rows, _ := conn.Query(e.ctx, membershipsSQL, users)
	set := map[[2]string]bool{}
	var u, g string
	if _, err := pgx.ForEachRow(rows, []any{&u, &g}, func() error {
		set[[2]string{u, g}] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read role memberships: %w", err)
	}
	return func(user, group string) bool { return set[[2]string{user, group}] }, nil
}
