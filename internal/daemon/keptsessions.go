package daemon

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/drift"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/reconcile"
)

// The sessions drift checks keep between them, so that a fleet in observe
// mode opens one session per instance, once, instead of one per instance
// per check (issue #16). Each generation has its own: a reload (new
// connection settings, a new max_sessions) closes them all with the
// generation. Only a plan's sessions are kept (reconcile.Sessions): an
// apply's stay its own. The change-log read of a new commit keeps its
// session to each primary too (floorKeeper), for the reconcile of the
// commit, in either mode, to take.
//
// A kept session is closed, not reused, when what a new one would be
// dialed with has changed since it was made: the instance's address or
// port (the inventory moved it), or the commit its application_name
// carries (a new commit). It is closed also after session_idle unused,
// when its cluster leaves the spec (or the shard: the same thing here),
// to make room for a worker that needs slots of max_sessions (evict), and
// at shutdown. The reconcile checks the rest before it reuses one
// (reconcile/kept.go): open, outside any transaction, answering, no reload
// since it started.

// keptKey names a kept session: an instance of a cluster (database
// postgres: the only one kept).
type keptKey struct{ cluster, instance string }

// dialedWith is what a session was dialed with that can change within a
// generation.
type dialedWith struct {
	addr string
	port int
	app  string // application_name: the commit
}

// keptSession is one idle kept session.
type keptSession struct {
	conn    *pgx.Conn
	dialed  dialedWith
	used    time.Time
	release func() // its max_sessions slot
}

// keptSessions are a generation's kept sessions.
type keptSessions struct {
	idle  time.Duration // 0: none kept
	slots *sessionCap
	rec   *drift.SessionRecorder
	now   func() time.Time

	mu     sync.Mutex
	m      map[keptKey]*keptSession
	closed bool // the generation ended: keep nothing more
}

// closeTimeout bounds the goodbye to a server when a kept session is
// closed (a partitioned server must not hold a worker).
const closeTimeout = 5 * time.Second

func newKeptSessions(idle time.Duration, slots *sessionCap, rec *drift.SessionRecorder, now func() time.Time) *keptSessions {
	k := &keptSessions{idle: idle, slots: slots, rec: rec, now: now, m: map[keptKey]*keptSession{}}
	slots.evict = k.evict
	return k
}

// lend is what a reconcile towards commit, dialing with d, takes kept
// sessions from and gives its own to; nil when session_idle is off.
func (k *keptSessions) lend(d *dbconn.Dialer, commit string) reconcile.Sessions {
	if k == nil || k.idle <= 0 {
		return nil
	}
	if commit != "" {
		d = d.WithCommit(commit)
	}
	return &lender{k: k, app: d.AppName()}
}

// lender is one reconcile's view of the kept sessions.
type lender struct {
	k   *keptSessions
	app string
}

func (l *lender) dialed(in *model.Instance) dialedWith {
	return dialedWith{addr: in.IP, port: in.Port, app: l.app}
}

// Take hands over the session kept for in when it was dialed as one
// would be now; one dialed otherwise is closed.
func (l *lender) Take(in *model.Instance) *pgx.Conn {
	e := l.k.take(keptKey{in.Cluster, in.Name()})
	if e == nil {
		return nil
	}
	if e.dialed != l.dialed(in) {
		closeConn(e.conn)
		return nil
	}
	return e.conn
}

// Reused counts a session taken and used instead of a new one.
func (l *lender) Reused(*model.Instance) { l.k.rec.Reused() }

// Keep keeps the session in was inspected on.
func (l *lender) Keep(in *model.Instance, conn *pgx.Conn) {
	l.k.keep(keptKey{in.Cluster, in.Name()}, &keptSession{conn: conn, dialed: l.dialed(in)})
}

// floorKeeper is what the change-log read of commit, not yet accepted,
// dials with and gives its sessions to, so that the reconcile of that
// commit right after inspects (and applies) on them instead of opening
// new ones: a burst then logs in once per instance, not twice. The
// sessions carry the commit in their application_name, as the reconcile's
// would; when the commit is refused they are closed (closeCommit). Nil
// keep: session_idle is off, and the read closes its sessions.
func (k *keptSessions) floorKeeper(d *dbconn.Dialer, commit string) (*dbconn.Dialer, keepFunc) {
	if k == nil || k.idle <= 0 || commit == "" {
		return d, nil
	}
	d = d.WithCommit(commit)
	app := d.AppName()
	return d, func(in *model.Instance, conn *pgx.Conn) {
		k.keep(keptKey{in.Cluster, in.Name()}, &keptSession{conn: conn, dialed: dialedWith{addr: in.IP, port: in.Port, app: app}})
	}
}

// closeCommit closes the sessions kept for commit (its change-log reads):
// the commit was refused, and nothing will reconcile towards it.
func (k *keptSessions) closeCommit(d *dbconn.Dialer, commit string) {
	if k == nil || commit == "" {
		return
	}
	app := d.WithCommit(commit).AppName()
	k.remove(-1, func(_ keptKey, e *keptSession) bool { return e.dialed.app == app })
}

// take removes the session kept under key; its slot goes back (the
// reconcile's own slots cover it while it is lent).
func (k *keptSessions) take(key keptKey) *keptSession {
	k.mu.Lock()
	e := k.m[key]
	delete(k.m, key)
	k.mu.Unlock()
	if e != nil {
		k.drop(e)
	}
	return e
}

// keep keeps e under key, with a slot of its own; it is closed instead
// when the generation ended or a worker waits for slots.
func (k *keptSessions) keep(key keptKey, e *keptSession) {
	e.used = k.now()
	k.mu.Lock()
	old := k.m[key]
	delete(k.m, key)
	var ok bool
	if !k.closed {
		if e.release, ok = k.slots.hold(); ok {
			k.m[key] = e
			k.rec.Kept(1)
		}
	}
	k.mu.Unlock()
	if old != nil { // two reconciles of one cluster never run at once; be safe all the same
		k.drop(old)
		closeConn(old.conn)
	}
	if !ok {
		closeConn(e.conn)
	}
}

// drop gives back the slot of a session no longer kept.
func (k *keptSessions) drop(e *keptSession) {
	e.release()
	k.rec.Kept(-1)
}

// remove closes the kept sessions pick selects (under mu), at most n
// (n < 0: all), least recently used first.
func (k *keptSessions) remove(n int, pick func(keptKey, *keptSession) bool) {
	type victim struct {
		key keptKey
		e   *keptSession
	}
	var vs []victim
	k.mu.Lock()
	for key, e := range k.m {
		if pick(key, e) {
			vs = append(vs, victim{key, e})
		}
	}
	slices.SortFunc(vs, func(a, b victim) int { return a.e.used.Compare(b.e.used) })
	if n >= 0 && len(vs) > n {
		vs = vs[:n]
	}
	for _, v := range vs {
		delete(k.m, v.key)
	}
	k.mu.Unlock()
	for _, v := range vs {
		k.drop(v.e)
		closeConn(v.e.conn)
	}
}

// evict closes the n least recently used kept sessions, for a worker
// that waits for slots (sessionCap.acquire).
func (k *keptSessions) evict(n int) {
	k.remove(n, func(keptKey, *keptSession) bool { return true })
}

// expire closes the sessions unused for session_idle.
func (k *keptSessions) expire() {
	cut := k.now().Add(-k.idle)
	k.remove(-1, func(_ keptKey, e *keptSession) bool { return !e.used.After(cut) })
}

// forget closes the sessions kept for a cluster that left the spec.
func (k *keptSessions) forget(cluster string) {
	if k == nil {
		return
	}
	k.remove(-1, func(key keptKey, _ *keptSession) bool { return key.cluster == cluster })
}

// closeAll closes every kept session and keeps none from then on: the
// generation ended.
func (k *keptSessions) closeAll() {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.remove(-1, func(keptKey, *keptSession) bool { return true })
}

// expireLoop closes idle sessions until ctx is done, checking a few times
// per session_idle.
func (k *keptSessions) expireLoop(ctx context.Context) {
	if k.idle <= 0 {
		return
	}
	t := time.NewTicker(min(max(k.idle/4, 50*time.Millisecond), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.expire()
		}
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// sessionTracer counts the sessions a dialer opens
// (pgreconciler_sessions_opened_total), through pgx's connect tracing.
type sessionTracer struct{ rec *drift.SessionRecorder }

func (s sessionTracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return ctx
}

func (s sessionTracer) TraceConnectEnd(_ context.Context, d pgx.TraceConnectEndData) {
	if d.Err == nil {
		s.rec.Opened()
	}
}

func (s sessionTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (s sessionTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
