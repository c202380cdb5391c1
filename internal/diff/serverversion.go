package diff

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// serverMajor reports an instance whose server runs another major than its
// declared pg_version: the repository no longer says what runs (an upgrade
// half done, or a pg_version edited ahead of one). It is drift no SQL can
// heal (pg_upgrade, or correct pg_version), so it is reported, never
// planned; the plan itself follows the server's own version.
func (b *builder) serverMajor(in *model.Instance, st *model.InstanceState) {
	have := st.Version / 10000
	if in.PGVersion == 0 || st.Version == 0 || in.PGVersion == have {
		return
	}
	b.add(phNote, plan.Change{Kind: plan.KindParameter, Action: plan.ActionReport, Object: "server_version",
		Instance: in.Name(), Before: fmt.Sprint(have), After: fmt.Sprint(in.PGVersion),
		Reason: fmt.Sprintf("not planned: pg_version is %d but the server runs PostgreSQL %d; upgrade the server "+
			"(pg_upgrade) or set pg_version to %d", in.PGVersion, have, have)})
}
