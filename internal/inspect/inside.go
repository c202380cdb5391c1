package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// maxSessions bounds how many managed databases are entered at once.
const maxSessions = 4

// enterDatabases reads the inside of each managed database that exists and
// allows connections: the session's own database through conn, the others
// through sessions of their own, at most maxSessions at a time. It returns
// the databases that could not be read, sorted by name.
func enterDatabases(ctx context.Context, conn *pgx.Conn, sessionDB string, opts Options,
	dbs []*model.LiveDatabase) []DatabaseError {
	var todo []*model.LiveDatabase
	for _, d := range dbs { // sorted by name, so each is entered once
		if d.AllowConn && slices.Contains(opts.Databases, d.Name) {
			todo = append(todo, d)
		}
	}
	errs := make([]error, len(todo))
	sem := make(chan struct{}, maxSessions)
	var wg sync.WaitGroup
	own := -1
	for i, d := range todo {
		if d.Name == sessionDB {
			own = i
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = enter(ctx, opts.Connect, d)
		})
	}
	if own >= 0 { // while the others are read through their own sessions
		errs[own] = readInside(ctx, conn, todo[own])
	}
	wg.Wait()
	var failed []DatabaseError
	for i, err := range errs {
		if err != nil {
			failed = append(failed, DatabaseError{Database: todo[i].Name, Err: err})
		}
	}
	return failed
}

// enter opens a session to d and reads its inside.
func enter(ctx context.Context, connect func(context.Context, string) (*pgx.Conn, error), d *model.LiveDatabase) error {
	if connect == nil {
		return errors.New("no Connect function to open a session")
	}
	conn, err := connect(ctx, d.Name)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return readInside(ctx, conn, d)
}

// readInside reads the schemas, extensions and default privileges of the
// database conn is connected to, in one batch, and marks d as Inside.
func readInside(ctx context.Context, conn *pgx.Conn, d *model.LiveDatabase) error {
	var schemas []model.LiveSchema
	var exts []model.LiveExtension
	var acl []model.DefaultACL
	b := &pgx.Batch{}
	queue(b, "schemas", into(&schemas, scanSchemas))
	queue(b, "extensions", into(&exts, scanExtensions))
	queue(b, "default_acl", into(&acl, scanDefaultACL))
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	d.Schemas, d.Extensions, d.DefaultACL, d.Inside = schemas, exts, acl, true
	return nil
}

// scanSchemas reads schemas.sql, sorted by name.
func scanSchemas(rows pgx.Rows) ([]model.LiveSchema, error) {
	out, err := collect(rows, func(s *model.LiveSchema) []any { return []any{&s.Name, &s.Owner, &s.ACL} })
	slices.SortFunc(out, func(a, b model.LiveSchema) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// scanExtensions reads extensions.sql, sorted by name.
func scanExtensions(rows pgx.Rows) ([]model.LiveExtension, error) {
	out, err := collect(rows, func(e *model.LiveExtension) []any { return []any{&e.Name, &e.Schema, &e.Version} })
	slices.SortFunc(out, func(a, b model.LiveExtension) int { return cmp.Compare(a.Name, b.Name) })
	return out, err
}

// scanDefaultACL reads default_acl.sql, sorted by owner, schema, object
// type, grantee and privilege.
func scanDefaultACL(rows pgx.Rows) ([]model.DefaultACL, error) {
	out, err := collect(rows, func(a *model.DefaultACL) []any {
		return []any{&a.Owner, &a.Schema, &a.ObjectType, &a.Grantee, &a.Privilege, &a.Grantable}
	})
	slices.SortFunc(out, func(x, y model.DefaultACL) int {
		return cmp.Or(cmp.Compare(x.Owner, y.Owner), cmp.Compare(x.Schema, y.Schema),
			cmp.Compare(x.ObjectType, y.ObjectType), cmp.Compare(x.Grantee, y.Grantee),
			cmp.Compare(x.Privilege, y.Privilege))
	})
	return out, err
}

// DatabaseError is a managed database whose inside could not be read.
type DatabaseError struct {
	Database string
	Err      error
}

// PartialError comes with a state that is complete except inside the
// listed databases, whose LiveDatabase.Inside is false: the caller may act
// on everything else but must not read "no schemas" into them.
type PartialError struct {
	Instance  string
	Databases []DatabaseError // sorted by name
}

func (e *PartialError) Error() string {
	msg := "inspect " + e.Instance + ":"
	for i, d := range e.Databases {
		if i > 0 {
			msg += ";"
		}
		msg += fmt.Sprintf(" enter database %s: %v", d.Database, d.Err)
	}
	return msg
}

// Unwrap returns the error of each database, for errors.Is and errors.As.
func (e *PartialError) Unwrap() []error {
	out := make([]error, len(e.Databases))
	for i, d := range e.Databases {
		out[i] = d.Err
	}
	return out
}
