package daemon

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// The change-log floor: what a cluster's own change log says was applied
// last is a floor for the rewind check (source.Floor), so that the last
// applied commit survives a lost state directory.
//
// Which clusters: those of the commit about to be accepted, at the
// addresses its spec gives. That commit has passed its signature and
// history checks against the state directory already, so its spec is
// trusted content; and its clusters are exactly the ones it would change,
// so they are the ones a rewind could harm. The spec only says where to
// look: the floors can refuse the commit, never admit it.
// The clusters a commit leaves as they are, converged to the last good
// commit, are not read: the commit changes nothing there (unchanged.go).
//
// A cluster whose change log could not be read then is checked under its
// apply lock before anything is applied to it (RecheckChangeLog, as the
// reconcile's Gate), by the daemon and by `reconciler apply --state-dir`.

// floorTimeout bounds one change-log read (connect and query).
const floorTimeout = 30 * time.Second

// ChangeLogFloor reads the newest commit the change log on c's primary
// records as applied. ok is false when it records none (or there is no
// change log yet).
func ChangeLogFloor(ctx context.Context, d *dbconn.Dialer, c *model.Cluster) (f source.Floor, ok bool, err error) {
	return changeLogFloor(ctx, d, c, nil)
}

// changeLogFloor is ChangeLogFloor; when keep is set, the session the
// change log was read on, without error, is given to it instead of being
// closed.
func changeLogFloor(ctx context.Context, d *dbconn.Dialer, c *model.Cluster, keep keepFunc) (f source.Floor, ok bool, err error) {
	p := c.Primary()
	if p == nil {
		return source.Floor{}, false, fmt.Errorf("read change log of cluster %s: no primary in the spec", c.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, floorTimeout)
	defer cancel()
	conn, err := d.Connect(ctx, p, "postgres")
	if err != nil {
		return source.Floor{}, false, fmt.Errorf("read change log of cluster %s: %w", c.Name, err)
	}
	a, err := apply.LastApplied(ctx, conn)
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return source.Floor{}, false, fmt.Errorf("read change log of cluster %s on %s: %w", c.Name, p.Name(), err)
	}
	if keep != nil {
		keep(p, conn)
	} else {
		conn.Close(context.WithoutCancel(ctx))
	}
	if a.Commit == "" {
		return source.Floor{}, false, nil
	}
	const maxCommit = 100 // a hand-written value is shown in messages: keep it short
	if len(a.Commit) > maxCommit {
		a.Commit = a.Commit[:maxCommit]
	}
	return source.Floor{Commit: a.Commit, At: a.At,
		Origin: fmt.Sprintf("the change_log of cluster %s on %s", c.Name, p.Name())}, true, nil
}

// keepFunc takes over a session to instance in, open and idle.
type keepFunc func(in *model.Instance, conn *pgx.Conn)

// ChangeLogFloors reads the floor of every cluster, workers at a time. The
// clusters whose change log could not be read are returned with the
// reason; their floor is unknown. The sessions read on go to keep when it
// is set, and are closed otherwise.
func ChangeLogFloors(ctx context.Context, d *dbconn.Dialer, clusters []*model.Cluster, workers int, keep *FloorSessions) ([]source.Floor, map[string]error) {
	var k keepFunc
	if keep != nil {
		k = keep.keep
	}
	return changeLogFloors(ctx, d, clusters, workers, nil, k)
}

// FloorSessions are the sessions ChangeLogFloors read the change logs on,
// for the reconciles of the same commit to take (a reconcile.Sessions),
// so that `reconciler plan` and `apply` with a state directory log in
// once per primary, as without one. The dialer the floors were read with
// must be the reconciles' (the commit in application_name). A session is
// lent once: the reconcile owns it then, and closes it (Keep too). Close
// closes the ones no reconcile took.
type FloorSessions struct {
	mu sync.Mutex
	m  map[keptKey]*pgx.Conn
}

// NewFloorSessions returns an empty FloorSessions.
func NewFloorSessions() *FloorSessions { return &FloorSessions{m: map[keptKey]*pgx.Conn{}} }

func (f *FloorSessions) keep(in *model.Instance, conn *pgx.Conn) {
	f.mu.Lock()
	old := f.m[keptKey{in.Cluster, in.Name()}]
	f.m[keptKey{in.Cluster, in.Name()}] = conn
	f.mu.Unlock()
	if old != nil {
		closeConn(old)
	}
}

// Take hands over the session the change log of in's cluster was read on,
// once.
func (f *FloorSessions) Take(in *model.Instance) *pgx.Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := keptKey{in.Cluster, in.Name()}
	conn := f.m[key]
	delete(f.m, key)
	return conn
}

// Reused is part of reconcile.Sessions; nothing is counted.
func (f *FloorSessions) Reused(*model.Instance) {}

// Keep closes conn: nothing is kept beyond the command.
func (f *FloorSessions) Keep(_ *model.Instance, conn *pgx.Conn) { closeConn(conn) }

// Close closes the sessions no reconcile took.
func (f *FloorSessions) Close() {
	f.mu.Lock()
	m := f.m
	f.m = map[keptKey]*pgx.Conn{}
	f.mu.Unlock()
	for _, conn := range m {
		closeConn(conn)
	}
}

// changeLogFloors is ChangeLogFloors, each session taking a slot of the
// daemon's session cap (sessions.go), and given to keep (when set) once
// read.
func changeLogFloors(ctx context.Context, d *dbconn.Dialer, clusters []*model.Cluster, workers int, cap *sessionCap, keep keepFunc) ([]source.Floor, map[string]error) {
	var (
		mu     sync.Mutex
		floors []source.Floor
		unread = map[string]error{}
		wg     sync.WaitGroup
		slots  = make(chan struct{}, max(workers, 1))
	)
	for _, c := range clusters {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			release, err := cap.acquire(ctx, 1)
			if err != nil {
				mu.Lock()
				unread[c.Name] = err
				mu.Unlock()
				return
			}
			f, ok, err := changeLogFloor(ctx, d, c, keep)
			release()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unread[c.Name] = err
			case ok:
				floors = append(floors, f)
			}
		}()
	}
	wg.Wait()
	sort.Slice(floors, func(i, j int) bool { return floors[i].Origin < floors[j].Origin })
	return floors, unread
}

// RecheckChangeLog checks commit against the newest commit c's change log
// records as applied, for a cluster whose change log could not be read
// when the commit was accepted; it is meant to run under the apply lock,
// before the first apply (reconcile.Options.Gate). A commit that does not
// descend from it is refused: a *reconcile.Refusal wrapping the
// *source.Refusal. A change log that cannot be read is an error too:
// nothing may be applied until it is read.
func RecheckChangeLog(ctx context.Context, src *source.Source, d *dbconn.Dialer, c *model.Cluster, commit string) error {
	var floors []source.Floor
	f, ok, err := ChangeLogFloor(ctx, d, c)
	if ok {
		floors = append(floors, f)
	}
	var rep *source.Report
	if err == nil {
		rep, err = src.Recheck(ctx, commit, floors)
	}
	switch {
	case err != nil:
		return fmt.Errorf("the change log must be read before the first apply of commit %s: %w", model.ShortHash(commit), err)
	case rep.Refusal != nil:
		return &reconcile.Refusal{Err: rep.Refusal}
	}
	return nil
}

// floorGate is the reconcile Gate of cluster c towards rev: the change log
// is read again under the lock while it has not been read for rev. When it
// refuses rev, the refusal is remembered and the revision before rev, if
// any, is the good one again.
func (d *Daemon) floorGate(g *generation, st *sourceState, rev *revision, c *model.Cluster) func(context.Context) error {
	return func(ctx context.Context) error {
		st.mu.Lock()
		pending := rev.floorPending[c.Name]
		st.mu.Unlock()
		if !pending {
			return nil
		}
		err := RecheckChangeLog(ctx, st.repo(), g.dialer, c, rev.prov.Commit)
		var ref *source.Refusal
		switch {
		case errors.As(err, &ref):
			d.refuse(st, g.cfg.StateDir, rev.prov.Commit, ref.Kind, ref.Error(), "commit refused")
			st.mu.Lock()
			back := st.good == rev
			if back {
				st.good = rev.prev
			}
			prev := rev.prev
			st.mu.Unlock()
			if back && prev != nil {
				d.rec.SetSource(st.name, prev.prov.Commit, prev.prov.Signer)
			}
		case err == nil:
			st.mu.Lock()
			delete(rev.floorPending, c.Name)
			if len(rev.floorPending) == 0 {
				rev.prev = nil
			}
			st.mu.Unlock()
		}
		if err != nil {
			d.log.Error("nothing applied: checked against the cluster's change log", "cluster", c.Name, "err", err)
		}
		return err
	}
}
