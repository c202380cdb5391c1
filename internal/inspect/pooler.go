package inspect

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// PoolerOptions name the pooler and say how its files are reached.
type PoolerOptions struct {
	Instance string // the instance it pools for, for model.PoolerState and errors
	Addr     string // copied into the state
	Port     int    // copied into the state

	// ReadFile returns a file of the pooler's host (the caller passes a
	// closure over the same reader that reads pg_hba.conf: local, or over
	// SSH with pinned host keys). Nil: the files are not read, and each
	// says so in its Err. Its errors must not quote the file's content.
	ReadFile func(ctx context.Context, path string) ([]byte, error)
}

// The admin console's commands, in the order InspectPooler sends them.
const (
	showVersion   = "SHOW VERSION"
	showConfig    = "SHOW CONFIG"
	showUsers     = "SHOW USERS"
	showDatabases = "SHOW DATABASES"
)

// InspectPooler reads the state of the PgBouncer conn is connected to:
// conn must be a session to its admin console (database pgbouncer, as one
// of admin_users or stats_users) in pgx's simple protocol, the only one
// the console speaks. It sends SHOW VERSION, SHOW CONFIG, SHOW USERS and
// SHOW DATABASES, one round trip each (the console runs one command per
// query), reading columns by name so that later PgBouncers, which add
// columns, read the same. Then it reads the four files through
// opts.ReadFile: userlist.txt and pgb_hba.conf where auth_file and
// auth_hba_file say, useropts.txt and database.txt beside pgbouncer.ini
// (conffile), where Pigsty's %include lines put them.
//
// A file that cannot be read does not fail the inspection: its Err says
// why. userlist.txt's content is kept as a model.Secret.
func InspectPooler(ctx context.Context, conn *pgx.Conn, opts PoolerOptions) (*model.PoolerState, error) {
	st := &model.PoolerState{Instance: opts.Instance, Addr: opts.Addr, Port: opts.Port, Config: map[string]string{}}
	fail := func(cmd string, err error) (*model.PoolerState, error) {
		return nil, fmt.Errorf("inspect pgbouncer of %s: %s: %w", opts.Instance, cmd, err)
	}
	rows, err := showRows(ctx, conn, showVersion)
	if err != nil {
		return fail(showVersion, err)
	}
	if len(rows) > 0 {
		st.Version = rows[0]["version"]
	}
	if rows, err = showRows(ctx, conn, showConfig); err != nil {
		return fail(showConfig, err)
	}
	for _, r := range rows {
		st.Config[r["key"]] = r["value"]
	}
	if rows, err = showRows(ctx, conn, showUsers); err != nil {
		return fail(showUsers, err)
	}
	for _, r := range rows {
		u := model.PoolerUser{Name: r["name"], PoolMode: r["pool_mode"]}
		if v, ok := r["max_user_connections"]; ok {
			n := atoi(v)
			u.MaxUserConnections = &n
		}
		st.Users = append(st.Users, u)
	}
	if rows, err = showRows(ctx, conn, showDatabases); err != nil {
		return fail(showDatabases, err)
	}
	for _, r := range rows {
		st.Databases = append(st.Databases, model.PoolerDatabase{
			Name: r["name"], Host: r["host"], Port: atoi(r["port"]), Database: r["database"], ForceUser: r["force_user"],
			PoolSize: atoi(r["pool_size"]), MinPoolSize: atoi(r["min_pool_size"]), ReservePool: atoi(r["reserve_pool"]),
			PoolMode: r["pool_mode"], MaxConnections: atoi(r["max_connections"]), CurrentConnections: atoi(r["current_connections"]),
			Paused: r["paused"] == "1", Disabled: r["disabled"] == "1",
		})
	}
	readPoolerFiles(ctx, st, opts.ReadFile)
	return st, nil
}

// readPoolerFiles fills in the four files.
func readPoolerFiles(ctx context.Context, st *model.PoolerState, read func(context.Context, string) ([]byte, error)) {
	dir := filepath.Dir(st.Config["conffile"])
	st.Userlist.Path = st.Config["auth_file"]
	st.HBA.Path = st.Config["auth_hba_file"]
	st.Useropts.Path = filepath.Join(dir, "useropts.txt")
	st.Database.Path = filepath.Join(dir, "database.txt")
	get := func(path string) (string, string) {
		switch {
		case read == nil:
			return "", "not read (no file reader for this host)"
		case path == "" || path == ".":
			return "", "the pooler names no such file"
		}
		b, err := read(ctx, path)
		if err != nil {
			return "", err.Error()
		}
		return string(b), ""
	}
	var text string
	text, st.Userlist.Err = get(st.Userlist.Path)
	st.Userlist.Content = model.NewSecret(text)
	for _, f := range []*model.PoolerFile{&st.Useropts, &st.Database, &st.HBA} {
		f.Text, f.Err = get(f.Path)
	}
}

// showRows runs an admin console command and returns its rows as column
// name → text (the simple protocol returns text; NULL is "").
func showRows(ctx context.Context, conn *pgx.Conn, cmd string) ([]map[string]string, error) {
	rows, err := conn.Query(ctx, cmd, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	var out []map[string]string
	for rows.Next() {
		vals := rows.RawValues()
		r := make(map[string]string, len(fields))
		for i, f := range fields {
			r[f.Name] = string(vals[i])
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
