package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// InstanceError is an instance that could not be inspected.
type InstanceError struct {
	Instance string
	Err      error
}

func (e InstanceError) Error() string { return fmt.Sprintf("%s: %v", e.Instance, e.Err) }

// inspectCluster reads the live state of every instance of a cluster, the
// instances in parallel. Instances that cannot be read are returned as
// errors, and so are partial reads (an *inspect.PartialError: a managed
// database could not be entered), whose state is kept. An instance is read
// on the session given returns for it, else on a new one; given's done,
// when not nil, is told the inspection's error and ends the session's use
// (the topology check's is closed or kept, kept.go; the apply lock's is
// left open).
//
// With a pooler file reader, the PgBouncer beside each instance is read
// too (inspectPooler).
func inspectCluster(ctx context.Context, d *dbconn.Dialer, c *model.Cluster, poolers apply.HBAWriter, logWindow time.Duration, given func(*model.Instance) (conn *pgx.Conn, done func(error))) (map[string]*model.InstanceState, []InstanceError) {
	live := map[string]*model.InstanceState{}
	var errs []InstanceError
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, in := range c.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session, done := given(in)
			st, err := inspectInstance(ctx, d, c, in, logWindow, session)
			if session != nil && done != nil {
				done(err)
			}
			inspectPooler(ctx, d, in, poolers, st)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, InstanceError{Instance: in.Name(), Err: err})
			}
			// A partial inspection (a managed database could not be
			// entered) still compares everything else.
			if st != nil {
				live[in.Name()] = st
			}
		}()
	}
	wg.Wait()
	sortErrors(errs)
	return live, errs
}

// inspectInstance reads one instance. The primary is entered in every
// managed database; replicas only in postgres (cluster-wide objects reach
// them by replication and are compared on the primary). The instance is
// read on session when it is given (left open), else on a new one.
func inspectInstance(ctx context.Context, d *dbconn.Dialer, c *model.Cluster, in *model.Instance, logWindow time.Duration, session *pgx.Conn) (*model.InstanceState, error) {
	conn := session
	if conn == nil {
		var err error
		if conn, err = d.Connect(ctx, in, "postgres"); err != nil {
			return nil, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
	}
	dbs := []string{"postgres"}
	if p := c.Primary(); p != nil && p.Name() == in.Name() {
		dbs = c.ManagedDatabases()
	}
	return inspect.Inspect(ctx, conn, inspect.Options{
		Cluster: c.Name, Instance: in.Name(), Addr: in.IP, Port: in.Port, Databases: dbs, LogWindow: logWindow,
		Connect: func(ctx context.Context, db string) (*pgx.Conn, error) { return d.Connect(ctx, in, db) },
	})
}

func sortErrors(errs []InstanceError) {
	slices.SortFunc(errs, func(a, b InstanceError) int { return strings.Compare(a.Instance, b.Instance) })
}
