package reconcile

import (
	"context"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// inspectPooler reads the PgBouncer beside an instance whose PostgreSQL
// was read (st), when the reconcile manages poolers (files is the reader
// of their files, the one that writes pg_hba.conf): its admin console's
// view and its four files go to st.Pooler. A pooler that cannot be read
// is st.PoolerErr, for the plan to report; it is never an instance error,
// and never a reason to leave PostgreSQL's own state alone.
func inspectPooler(ctx context.Context, d *dbconn.Dialer, in *model.Instance, files apply.HBAWriter, st *model.InstanceState) {
	if files == nil || !in.Pooler.Enabled || st == nil {
		return
	}
	conn, err := d.ConnectPooler(ctx, in)
	if err != nil {
		st.PoolerErr = err.Error()
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	p, err := inspect.InspectPooler(ctx, conn, inspect.PoolerOptions{Instance: in.Name(), Addr: in.IP, Port: in.Pooler.Port,
		ReadFile: func(ctx context.Context, path string) ([]byte, error) {
			b, _, err := files.Read(ctx, in, path)
			return b, err
		}})
	if err != nil {
		st.PoolerErr = err.Error()
		return
	}
	st.Pooler = p
}
