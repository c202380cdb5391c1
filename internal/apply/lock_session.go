package apply

import "github.com/jackc/pgx/v5"

// Session is the lock's session on the cluster's primary, connected to
// the postgres database, for reads under the lock: package reconcile
// inspects the primary on it, so that an apply opens one session fewer.
// The caller must leave it as it found it: idle (no transaction open),
// its settings unchanged, and open (Release closes it). The apply itself
// writes on sessions of its own, so that a change that ends its session
// does not take the lock with it (TestHostileTextInABatch).
func (l *Lock) Session() *pgx.Conn { return l.conn }
