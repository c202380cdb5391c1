package reconcile

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
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

// floorTimeout bounds one change-log read (connect and query).
const floorTimeout = 30 * time.Second

// ChangeLogFloor reads the newest commit the change log on c's primary
// records as applied. ok is false when it records none (or there is no
// change log yet).
func ChangeLogFloor(ctx context.Context, d *dbconn.Dialer, c *model.Cluster) (f source.Floor, ok bool, err error) {
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
	defer conn.Close(context.WithoutCancel(ctx))
	a, err := apply.LastApplied(ctx, conn)
	if err != nil {
		return source.Floor{}, false, fmt.Errorf("read change log of cluster %s on %s: %w", c.Name, p.Name(), err)
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

// ChangeLogFloors reads the floor of every cluster, workers at a time. The
// clusters whose change log could not be read are returned with the
// reason; their floor is unknown.
func ChangeLogFloors(ctx context.Context, d *dbconn.Dialer, clusters []*model.Cluster, workers int) ([]source.Floor, map[string]error) {
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
			f, ok, err := ChangeLogFloor(ctx, d, c)
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
