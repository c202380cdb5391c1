package inspect

import (
	"cmp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// scanRoles reads roles.sql or roles_authid.sql, keyed by oid.
func scanRoles(rows pgx.Rows) (map[uint32]*model.LiveRole, error) {
	roles := map[uint32]*model.LiveRole{}
	var r model.LiveRole
	var until pgtype.Timestamptz
	var password *string
	_, err := pgx.ForEachRow(rows, []any{&r.OID, &r.Name, &r.Superuser, &r.Inherit, &r.CreateRole,
		&r.CreateDB, &r.Login, &r.Replication, &r.BypassRLS, &r.ConnLimit, &until, &password}, func() error {
		role := r
		role.ValidUntil, role.Infinity = validUntil(until)
		if password != nil {
			role.Password = model.NewSecret(*password)
		}
		roles[role.OID] = &role
		return nil
	})
	return roles, err
}

// validUntil maps rolvaliduntil to the model: nil for NULL (never
// expires), the zero time with infinity set for 'infinity', and the zero
// time alone for '-infinity' (expired since forever).
func validUntil(t pgtype.Timestamptz) (*time.Time, bool) {
	switch {
	case !t.Valid:
		return nil, false
	case t.InfinityModifier == pgtype.Infinity:
		return &time.Time{}, true
	case t.InfinityModifier == pgtype.NegativeInfinity:
		return &time.Time{}, false
	}
	v := t.Time
	return &v, false
}

// membershipRow is a row of pg_auth_members, by oid. It holds no pointer,
// so that 50,000 of them cost the garbage collector nothing.
type membershipRow struct {
	member, role, grantor uint32
	admin                 bool
	inherit, set          pgtype.Bool // NULL before PostgreSQL 16
}

// scanMemberships reads memberships.sql or memberships16.sql.
func scanMemberships(rows pgx.Rows) ([]membershipRow, error) {
	return collect(rows, func(m *membershipRow) []any {
		return []any{&m.member, &m.role, &m.grantor, &m.admin, &m.inherit, &m.set}
	})
}

// joinMemberships sets each role's MemberOf, sorted by role, then grantor.
// A grantor that no longer exists (PostgreSQL 15 does not track it) is "".
// All MemberOf slices share one backing array, each sized exactly.
func joinMemberships(roles map[uint32]*model.LiveRole, rows []membershipRow) {
	count := make(map[uint32]int, len(roles))
	for _, m := range rows {
		count[m.member]++
	}
	all := make([]model.LiveMembership, len(rows))
	for oid, n := range count {
		if r := roles[oid]; r != nil {
			r.MemberOf, all = all[:0:n], all[n:]
		}
	}
	for _, m := range rows {
		member, role := roles[m.member], roles[m.role]
		if member == nil || role == nil {
			continue // a dangling oid: the catalogs do not allow it, skip it
		}
		lm := model.LiveMembership{Role: role.Name, Admin: m.admin, Inherit: optBool(m.inherit), Set: optBool(m.set)}
		if g := roles[m.grantor]; g != nil {
			lm.Grantor = g.Name
		}
		member.MemberOf = append(member.MemberOf, lm)
	}
	for _, r := range roles {
		slices.SortFunc(r.MemberOf, func(a, b model.LiveMembership) int {
			return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Grantor, b.Grantor))
		})
	}
}

// optBool is nil for NULL, else one of two shared values: 50,000
// memberships would otherwise allocate 100,000 booleans. Nothing writes
// through a live state's *bool.
func optBool(b pgtype.Bool) *bool {
	switch {
	case !b.Valid:
		return nil
	case b.Bool:
		return &sharedTrue
	}
	return &sharedFalse
}

var sharedTrue, sharedFalse = true, false
