package apply

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// poolerSettleTimeout bounds write, reload, probe and restore of one
// pooler's files once the apply may no longer stop half-way.
const poolerSettleTimeout = time.Minute

// samePooler reports whether two changes are about the same pooler.
func samePooler(a, b *plan.Change) bool {
	return b.Kind == plan.KindPgBouncer && b.Instance == a.Instance
}

// pooler brings the PgBouncer beside one instance to the spec; idx are
// the plan's PgBouncer changes of that instance, which settle together:
//
//  1. read pg_authid on the primary, after the plan's role and password
//     changes ran, and render the four files again from it (userlist.txt
//     copies each verifier, as Pigsty's pgb-user AUTO does);
//  2. read the live files (bytes, owner, mode) with the writer, where the
//     pooler's SHOW CONFIG says they are;
//  3. the pooler's lockout guard (pgbouncer.Lockout): the new pgb_hba.conf
//     and userlist.txt must let in the dbsu, the monitor, the admin and
//     the reconciler's own session to the admin console; refused before
//     anything is written;
//  4. write the files that differ, atomically, userlist.txt 0600;
//  5. RELOAD through the admin console;
//  6. log in again to the admin console as the reconciler does, and as the
//     monitor when it could before; check that the admin console shows
//     what the files say (PgBouncer keeps its old configuration, and
//     RELOAD succeeds, when it cannot read a file). If not, put the
//     previous files back and reload again.
func (e *executor) pooler(idx []int) error {
	c := &e.cp.Changes[idx[0]]
	in := e.t.Cluster.Instance(c.Instance)
	// The changes settle together: the first says what happened, the
	// others point at it.
	settle := func(st plan.Status, msg string) {
		for k, i := range idx {
			m := msg
			if k > 0 && msg != "" {
				m = "with " + c.Object + " (the pooler's files are written and reloaded together): " + firstLine(msg)
			}
			e.done(i, st, m, "")
		}
	}
	if e.opts.PgBouncer == nil {
		settle(plan.StatusSkipped, "no PgBouncer writer configured: the pooler's files are left as they are")
		return nil
	}
	stored, err := e.storedVerifiers()
	if err != nil {
		e.fail(idx, err)
		return e.stopIfPrimary(e.primary, err)
	}
	st, msg := e.replacePoolerFiles(in, stored)
	settle(st, msg)
	return nil
}

// storedVerifiers reads pg_authid's passwords on the primary.
func (e *executor) storedVerifiers() (map[string]model.Secret, error) {
	conn, err := e.conn(e.primary, "postgres")
	if err != nil {
		return nil, err
	}
	rows, _ := conn.Query(e.ctx, poolerAuthidSQL)
	out := map[string]model.Secret{}
	var name, pw string
	if _, err := pgx.ForEachRow(rows, []any{&name, &pw}, func() error {
		out[name] = model.NewSecret(pw)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read pg_authid on %s: %w", e.primary.Name(), err)
	}
	return out, nil
}

// poolerFile is one file of the pooler: where it is, what it holds, what
// it must hold.
type poolerFile struct {
	file      pgbouncer.File
	path      string
	prev      []byte
	info      FileInfo
	candidate []byte
	written   bool
}

// replacePoolerFiles is steps 1 to 6 of pooler, returning how the
// changes settle.
func (e *executor) replacePoolerFiles(in *model.Instance, stored map[string]model.Secret) (plan.Status, string) {
	w := e.opts.PgBouncer
	admin, err := e.t.Dialer.ConnectPooler(e.ctx, in)
	if err != nil {
		return plan.StatusFailed, message(err) + "; nothing written"
	}
	defer admin.Close(context.WithoutCancel(e.ctx))
	infos := map[string]FileInfo{}
	live, err := inspect.InspectPooler(e.ctx, admin, inspect.PoolerOptions{Instance: in.Name(), Addr: in.IP, Port: in.Pooler.Port,
		ReadFile: func(ctx context.Context, path string) ([]byte, error) {
			b, info, err := w.Read(ctx, in, path)
			infos[path] = info
			return b, err
		}})
	if err != nil {
		return plan.StatusFailed, message(err) + "; nothing written"
	}
	liveUsers, _ := pgbouncer.ParseUserlist(live.Userlist.Content)
	want, err := pgbouncer.Render(e.t.Cluster, in, pgbouncer.Inputs{Stored: stored, Live: liveUsers, Rand: rand.Reader})
	if err != nil {
		return plan.StatusFailed, err.Error() + "; nothing written"
	}
	userlist, err := want.Userlist.Text()
	if err != nil {
		return plan.StatusFailed, err.Error() + "; nothing written"
	}
	files := []*poolerFile{
		{file: pgbouncer.Userlist, path: live.Userlist.Path, prev: []byte(live.Userlist.Content.Reveal()), candidate: []byte(userlist.Reveal())},
		{file: pgbouncer.Useropts, path: live.Useropts.Path, prev: []byte(live.Useropts.Text), candidate: []byte(want.Useropts)},
		{file: pgbouncer.Database, path: live.Database.Path, prev: []byte(live.Database.Text), candidate: []byte(want.Database)},
		{file: pgbouncer.HBA, path: live.HBA.Path, prev: []byte(live.HBA.Text), candidate: []byte(want.HBA.Text)},
	}
	for _, f := range files {
		if _, why := pgbouncer.Live(live, f.file); why != "" {
			return plan.StatusFailed, fmt.Sprintf("cannot read %s of the PgBouncer of %s: %s; nothing written", f.file.Base(), in.Name(), why)
		}
		f.info = infos[f.path]
		if f.file == pgbouncer.Userlist {
			f.info.Mode = 0o600 // verifiers: the pooler's user only, as Pigsty writes it
		}
	}
	self := e.poolerSelf(admin, in)
	if problems := pgbouncer.Lockout(want.HBA.Lines, &want.Userlist, append(pgbouncer.Victims(e.t.Cluster, in), self)); len(problems) > 0 {
		return plan.StatusRefused, "pooler lockout guard: " + strings.Join(problems, "; ") + "; nothing written"
	}
	monitorBefore := e.poolerMonitorLogin(e.ctx, in) == nil

	// From here on the files may change on disk: run to the end, bounded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), poolerSettleTimeout)
	defer cancel()
	restore := func(why string) string {
		var failed []string
		n := 0
		for _, f := range files {
			if !f.written {
				continue
			}
			n++
			if err := w.Write(ctx, in, f.path, f.prev, f.info); err != nil {
				failed = append(failed, f.file.Base()+": "+err.Error())
			}
		}
		switch {
		case n == 0:
			return why + "; nothing was written, nothing to restore"
		case len(failed) > 0:
			e.log.Error("restore PgBouncer files failed: the refused files are on disk", "cluster", e.cluster(), "instance", in.Name(), "error", strings.Join(failed, "; "))
			return why + "; restoring the previous files failed, the refused ones are on disk: " + strings.Join(failed, "; ")
		}
		if err := poolerReload(ctx, admin); err != nil {
			return why + "; previous files restored, reload after restoring failed: " + message(err)
		}
		return why + "; previous files restored and reloaded"
	}
	for _, f := range files {
		if string(f.prev) == string(f.candidate) {
			continue
		}
		if err := w.Write(ctx, in, f.path, f.candidate, f.info); err != nil {
			return plan.StatusFailed, restore(fmt.Sprintf("write %s: %s", f.file.Base(), message(err)))
		}
		f.written = true
	}
	if err := poolerReload(ctx, admin); err != nil {
		return plan.StatusFailed, restore("written, but " + message(err))
	}
	if why := e.verifyPooler(ctx, in, want, monitorBefore); why != "" {
		return plan.StatusFailed, restore(why)
	}
	return plan.StatusApplied, ""
}

// poolerSelf is the reconciler's own connection to the admin console, as
// the pooler sees it: the local address of the session (there is no NAT
// between the reconciler and a pooler it writes to), its user, and TLS.
func (e *executor) poolerSelf(admin *pgx.Conn, in *model.Instance) pgbouncer.Victim {
	v := pgbouncer.Victim{Conn: hba.Conn{Database: pgbouncer.AdminDatabase, User: admin.Config().User},
		Who: "the reconciler (" + admin.Config().User + ") to database pgbouncer"}
	nc := admin.PgConn().Conn()
	if _, ok := nc.(*tls.Conn); ok {
		v.Conn.SSL = true
	}
	switch a := nc.LocalAddr().(type) {
	case *net.TCPAddr:
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			v.Conn.Addr = ip.Unmap()
			v.Who += " from " + v.Conn.Addr.String()
		}
	default:
		v.Conn.Local = true
		v.Who += " over the local socket"
	}
	return v
}

// poolerMonitorLogin logs in to the admin console as the monitor user,
// with the spec's plaintext password, from here; an error when it cannot
// (or no plaintext password is known).
func (e *executor) poolerMonitorLogin(ctx context.Context, in *model.Instance) error {
	g := e.t.Cluster.Globals
	r := e.t.Cluster.Role(g.MonitorUser)
	if r == nil || r.Password.Kind() != model.SecretPlaintext {
		return errors.New("no plaintext password for the monitor user in the spec")
	}
	conn, err := e.t.Dialer.ConnectPoolerAs(ctx, in, g.MonitorUser, r.Password)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// verifyPooler is step 6 of pooler: "" when the pooler took the files.
func (e *executor) verifyPooler(ctx context.Context, in *model.Instance, want *pgbouncer.Files, monitorBefore bool) string {
	conn, err := e.t.Dialer.ConnectPooler(ctx, in)
	if err != nil {
		return "reload locked out the reconciler (" + message(err) + ")"
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if monitorBefore {
		if err := e.poolerMonitorLogin(ctx, in); err != nil {
			return "reload locked out the monitor user " + e.t.Cluster.Globals.MonitorUser + " (" + message(err) + ")"
		}
	}
	st, err := inspect.InspectPooler(ctx, conn, inspect.PoolerOptions{Instance: in.Name()})
	if err != nil {
		return "cannot read the pooler's state after the reload: " + message(err)
	}
	var bad []string
	for _, f := range pgbouncer.CompareState(e.t.Cluster, in, want, st) {
		if f.File != pgbouncer.INI {
			bad = append(bad, f.String())
		}
	}
	if len(bad) > 0 {
		return "the pooler did not take the new files (see its log: a file it cannot read keeps the old configuration): " + strings.Join(bad, "; ")
	}
	return ""
}

// poolerReload sends RELOAD to the admin console.
func poolerReload(ctx context.Context, admin *pgx.Conn) error {
	if _, err := admin.Exec(ctx, "RELOAD", pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("RELOAD: %w", err)
	}
	return nil
}

// firstLine is what a long message is about, in short.
func firstLine(msg string) string {
	if head, _, ok := strings.Cut(msg, ": "); ok {
		return head
	}
	return msg
}
