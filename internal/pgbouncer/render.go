package pgbouncer

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Inputs are what Render needs beyond the spec for userlist.txt; each is
// optional.
type Inputs struct {
	// Stored holds pg_authid.rolpassword as the primary holds it, by role
	// name (a zero Secret for NULL); nil when pg_authid was not read. A
	// role missing from a non-nil map does not exist.
	Stored map[string]model.Secret

	// Live is the pooler's userlist.txt now (ParseUserlist), nil when it
	// is not known: a verifier in it that still matches the spec's
	// password is kept when Stored is nil.
	Live []Entry

	// Rand is the salt source for verifiers hashed here (crypto/rand's
	// Reader; a fixed reader in tests). Nil refuses to hash.
	Rand io.Reader
}

// Files are the files an instance's PgBouncer must hold.
type Files struct {
	Userlist UserlistFile
	Useropts string
	Database string
	HBA      *hba.File

	Users     []UserOptions   // the useropts.txt entries, in file order
	Databases []DatabaseEntry // the database.txt entries, in file order
}

// UserOptions is one useropts.txt entry: the options of a user's pools.
type UserOptions struct {
	Name               string
	PoolMode           string // "" when not set
	MaxUserConnections *int   // pool_connlimit
}

// DatabaseEntry is one database.txt entry: how PgBouncer reaches a
// database and the options of its pools (nil or "" when not set, so the
// pooler's defaults apply).
type DatabaseEntry struct {
	Name             string
	Host             string // pg_localhost
	Port             int    // 0: not written (5432)
	AuthUser         string // pool_auth_user
	PoolMode         string
	PoolSize         *int // pool_size
	MinPoolSize      *int // pool_size_min
	ReservePool      *int // pool_reserve
	MaxDBConnections *int // pool_connlimit
}

// Render produces the four files of the PgBouncer beside instance in of
// cluster c (see the package doc for what each holds).
func Render(c *model.Cluster, in *model.Instance, inp Inputs) (*Files, error) {
	if !in.Pooler.Enabled {
		return nil, fmt.Errorf("render PgBouncer files of %s: pgbouncer_enabled is false", in.Name())
	}
	var f Files
	var err error
	if f.Users, err = userOptions(c); err != nil {
		return nil, fmt.Errorf("render useropts.txt of %s: %w", in.Name(), err)
	}
	f.Useropts = renderUseropts(f.Users)
	f.Databases = databaseEntries(c, in)
	f.Database = renderDatabase(f.Databases)
	if f.HBA, err = hba.RenderPgBouncer(c, in); err != nil {
		return nil, err
	}
	if f.Userlist, err = renderUserlist(c, in, inp); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name(), err)
	}
	return &f, nil
}

// userOptions lists the useropts.txt entries: pg_default_roles then
// pg_users, absent ones too, each with a pool_mode or pool_connlimit.
func userOptions(c *model.Cluster) ([]UserOptions, error) {
	var out []UserOptions
	var errs []error
	for _, r := range c.Roles {
		if r.PoolMode == "" && r.PoolConnLimit == nil {
			continue
		}
		if err := CheckUserKey(r.Name); err != nil {
			errs = append(errs, err)
		}
		out = append(out, UserOptions{Name: r.Name, PoolMode: r.PoolMode, MaxUserConnections: r.PoolConnLimit})
	}
	return out, errors.Join(errs...)
}

// CheckUserKey refuses a user name PgBouncer 1.18 cannot read as a key of
// useropts.txt: its ini parser stops at '@' with a syntax error, and the
// whole configuration then fails to (re)load.
func CheckUserKey(name string) error {
	if strings.Contains(name, "@") {
		return fmt.Errorf("user %s: PgBouncer 1.18 cannot read '@' in a useropts.txt key (a syntax error that stops the whole configuration from loading); drop its pool_mode and pool_connlimit", name)
	}
	return nil
}

// renderUseropts is pgbouncer.useropts with Ansible's trim_blocks: a line
// "<name padded to 27> = pool_mode=<m> max_user_connections=<n>", either
// part empty when unset (the blank between them stays).
func renderUseropts(users []UserOptions) string {
	var b strings.Builder
	b.WriteString("# pgbouncer user options\n")
	for _, u := range users {
		var mode, limit string
		if u.PoolMode != "" {
			mode = "pool_mode=" + u.PoolMode
		}
		if u.MaxUserConnections != nil {
			limit = "max_user_connections=" + strconv.Itoa(*u.MaxUserConnections)
		}
		fmt.Fprintf(&b, "%-27s = %s %s\n", u.Name, mode, limit)
	}
	return b.String()
}

// databaseEntries lists the database.txt entries: pg_databases in order,
// without those with pgbouncer false (or null) and the absent ones.
func databaseEntries(c *model.Cluster, in *model.Instance) []DatabaseEntry {
	var out []DatabaseEntry
	for _, d := range c.Databases {
		if !d.Pgbouncer || d.State == model.DatabaseAbsent {
			continue
		}
		e := DatabaseEntry{Name: d.Name, Host: in.Pooler.Localhost, AuthUser: d.PoolAuthUser, PoolMode: d.PoolMode,
			PoolSize: d.PoolSize, MinPoolSize: d.PoolSizeMin, ReservePool: d.PoolReserve, MaxDBConnections: d.PoolConnLimit}
		if in.Port != 5432 {
			e.Port = in.Port
		}
		out = append(out, e)
	}
	return out
}

// renderDatabase is pgbouncer.database with Ansible's trim_blocks.
func renderDatabase(dbs []DatabaseEntry) string {
	var b strings.Builder
	b.WriteString("# pgbouncer database list\n")
	for _, d := range dbs {
		fmt.Fprintf(&b, "%-27s = %s\n", d.Name, d.connString())
	}
	return b.String()
}

// connString is the entry's value, its options in the template's order.
func (d DatabaseEntry) connString() string {
	parts := []string{"host=" + d.Host}
	if d.Port != 0 {
		parts = append(parts, "port="+strconv.Itoa(d.Port))
	}
	if d.AuthUser != "" {
		parts = append(parts, "auth_user="+d.AuthUser)
	}
	if d.PoolMode != "" {
		parts = append(parts, "pool_mode="+d.PoolMode)
	}
	for _, o := range []struct {
		key string
		v   *int
	}{{"pool_size", d.PoolSize}, {"min_pool_size", d.MinPoolSize}, {"reserve_pool", d.ReservePool}, {"max_db_connections", d.MaxDBConnections}} {
		if o.v != nil {
			parts = append(parts, o.key+"="+strconv.Itoa(*o.v))
		}
	}
	return strings.Join(parts, " ")
}
