package diff

import "strings"

// acl is a parsed aclitem[]: grantee → privilege letters, with '*' after a
// letter held WITH GRANT OPTION ("" is PUBLIC).
type acl map[string]string

// parseACL reads aclitem texts such as `=Tc/postgres` or
// `"my role"=c*/owner`. A NULL ACL (nil) stands for the default: the
// owner holds everything, with grant option.
func parseACL(items []string, owner string) acl {
	out := acl{}
	if items == nil {
		out[owner] = "C*T*c*"
		return out
	}
	for _, it := range items {
		grantee, rest := splitACLItem(it)
		privs, _, _ := strings.Cut(rest, "/")
		out[grantee] += privs
	}
	return out
}

// splitACLItem splits an aclitem at its '=' (a quoted grantee may hold
// one), unquoting the grantee.
func splitACLItem(it string) (string, string) {
	if strings.HasPrefix(it, `"`) {
		var b strings.Builder
		for i := 1; i < len(it); i++ {
			if it[i] == '"' {
				if i+1 < len(it) && it[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				rest := it[i+1:]
				return b.String(), strings.TrimPrefix(rest, "=")
			}
			b.WriteByte(it[i])
		}
		return b.String(), ""
	}
	g, rest, _ := strings.Cut(it, "=")
	return g, rest
}

// has reports whether grantee holds privilege letter p (with grant option
// when grant is set).
func (a acl) has(grantee string, p byte, grant bool) bool {
	privs := a[grantee]
	for i := 0; i < len(privs); i++ {
		if privs[i] != p {
			continue
		}
		if !grant || (i+1 < len(privs) && privs[i+1] == '*') {
			return true
		}
	}
	return false
}
