package hba

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Pigsty's HBA aliases (the addr and auth cases of its template,
// roles/pgsql/templates/pg_hba.conf), as constant tables.

// addrAliases are the address aliases Pigsty's template accepts.
var addrAliases = []string{"local", "localhost", "admin", "infra", "cluster", "intra", "intranet", "world", "all"}

// authAlias is what an auth alias renders to. pwdenc means "scram-sha-256,
// or md5 when pg_pwd_enc is md5".
type authAlias struct {
	method string
	ssl    bool // rendered as hostssl on TCP addresses
}

const pwdenc = "pwdenc"

var authAliases = map[string]authAlias{
	"deny": {"reject", false}, "reject": {"reject", false},
	"pwd": {pwdenc, false}, "ssl": {pwdenc, true},
	"sha": {"scram-sha-256", false}, "scram-sha-256": {"scram-sha-256", false},
	"md5": {"md5", false}, "ssl-sha": {"scram-sha-256", true}, "ssl-md5": {"md5", true},
	"cert": {"cert", true}, "os": {"ident", false}, "ident": {"ident", false},
	"peer": {"peer", false}, "trust": {"trust", false},
}

// authAliasNames lists the auth aliases, sorted.
func authAliasNames() []string { return slices.Sorted(maps.Keys(authAliases)) }

// roles are the values of a rule's role field ("" means default).
var roles = []string{"default", "common", "primary", "replica", "offline", "standby", "delayed"}

// resolveAuth returns the method and whether the rule renders hostssl.
func resolveAuth(auth string, g model.Globals, d dialect) (method string, ssl bool, err error) {
	if auth == "" {
		auth = "pwd"
	}
	a, ok := authAliases[auth]
	if !ok {
		return "", false, fmt.Errorf("unknown auth alias %q (known: %s); use raw rules for other methods", auth, strings.Join(authAliasNames(), ", "))
	}
	if a.method == "ident" {
		a.method = d.identMethod
	}
	if a.method == pwdenc {
		a.method = "scram-sha-256"
		if g.PasswordEncryption == "md5" {
			a.method = "md5"
		}
	}
	return a.method, a.ssl, nil
}

// resolveUser maps ${dbsu}, ${repl}, ${monitor} and ${admin} to the
// global user names; anything else is kept verbatim, "" is all.
func resolveUser(user string, g model.Globals) string {
	switch user {
	case "":
		return "all"
	case "${dbsu}":
		return g.DBSU
	case "${repl}":
		return g.ReplicationUser
	case "${monitor}":
		return g.MonitorUser
	case "${admin}":
		return g.AdminUser
	}
	return user
}

// resolveAddr returns the address column values a TCP address alias or
// literal expands to; local and localhost are handled by the caller.
func resolveAddr(addr string, c *model.Cluster) ([]string, error) {
	g := c.Globals
	switch addr {
	case "admin":
		if g.AdminIP == "" {
			return nil, fmt.Errorf("addr admin: admin_ip is not set")
		}
		return []string{g.AdminIP + "/32"}, nil
	case "infra":
		return slash32(g.InfraIPs), nil
	case "cluster":
		return slash32(c.MemberIPs()), nil
	case "intra", "intranet":
		return slices.Clone(g.Intranet), nil
	case "world", "all":
		return []string{"0.0.0.0/0", "::/0"}, nil
	}
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	return []string{addr}, nil
}

// slash32 sorts ips as strings (as Ansible's sort does) and adds /32.
func slash32(ips []string) []string {
	out := slices.Sorted(slices.Values(ips))
	for i := range out {
		out[i] += "/32"
	}
	return out
}
