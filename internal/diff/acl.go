package diff

import "strings"

// acl is a parsed aclitem[]: grantee → privilege letters, with '*' after a
// letter held WITH GRANT OPTION ("" is PUBLIC).
type acl map[string]string

// objectACL is the ACL of one database or schema with its owner, whose
// grant options are implicit: PostgreSQL never shows them on the owner's
// own aclitem.
type objectACL struct {
	owner string
	items acl
}

// databaseACL reads a datacl. NULL (nil) is PostgreSQL's default: the
// owner holds CREATE, TEMPORARY and CONNECT, PUBLIC TEMPORARY and CONNECT.
func databaseACL(items []string, owner string) objectACL {
	return objectACL{owner, parseACL(items, acl{owner: "CTc", "": "Tc"})}
}

// schemaACL reads an nspacl. NULL (nil) is PostgreSQL's default: the owner
// holds USAGE and CREATE, nobody else anything.
func schemaACL(items []string, owner string) objectACL {
	return objectACL{owner, parseACL(items, acl{owner: "UC"})}
}

// parseACL reads aclitem texts such as `=Tc/postgres` or
// `"my role"=c*/owner`; a NULL ACL (nil) stands for def.
func parseACL(items []string, def acl) acl {
	if items == nil {
		return def
	}
	out := acl{}
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

// holds reports whether grantee holds privilege letter p, with grant
// option when grant is set (the owner's are implicit).
func (o objectACL) holds(grantee string, p byte, grant bool) bool {
	return o.items.has(grantee, p, grant && grantee != o.owner)
}

// withOwner is the ACL after ALTER … OWNER TO owner: PostgreSQL hands the
// old owner's privileges to the new one (aclnewowner).
func (o objectACL) withOwner(owner string) objectACL {
	if owner == "" || owner == o.owner {
		return o
	}
	items := make(acl, len(o.items))
	for g, p := range o.items {
		items[g] = p
	}
	items[owner] += items[o.owner]
	delete(items, o.owner)
	return objectACL{owner, items}
}
