package diff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// roleImpact holds the role, membership and privilege changes of the plan
// against the sessions open on one instance (role attributes and
// memberships are cluster-wide: a replica's sessions are hit alike):
//
//   - NOLOGIN on a role with sessions: they stay, but none can log in
//     again (a pool's reconnect, the next cron run) — cuts off;
//   - VALID UNTIL in the past: password logins refused from now — cuts off;
//   - CONNECTION LIMIT below the sessions open now (superusers are not
//     limited) — cuts off the sessions above it on their next connect;
//   - a dropped role: its sessions are terminated — cuts off; the objects
//     it owns are reassigned or dropped — for the reviewer;
//   - a revoked membership: its member's sessions, and those of roles
//     that are members through it, may rely on the privileges it gave;
//   - CONNECT revoked on a database: the sessions in it of that grantee
//     (PUBLIC: everyone) may rely on it to reconnect.
func (b *builder) roleImpact(instance string, st *model.InstanceState, clients []client, changes []*plan.Change) {
	byUser := map[string][]client{}
	for _, c := range clients {
		if !c.conn.Replication {
			byUser[c.group.User] = append(byUser[c.group.User], c)
		}
	}
	for _, ch := range changes {
		switch {
		case ch.Kind == plan.KindRole && ch.Role != nil && ch.Action == plan.ActionRemove:
			b.droppedImpact(instance, st, ch, byUser[ch.Role.Name])
		case ch.Kind == plan.KindRole && ch.Role != nil && ch.Action == plan.ActionChange:
			b.attrImpact(instance, ch, byUser[ch.Role.Name])
		case ch.Kind == plan.KindMembership && ch.Membership != nil && ch.Action == plan.ActionRemove:
			var hit []client
			for _, user := range slices.Sorted(maps.Keys(byUser)) {
				cs := byUser[user]
				if user == ch.Membership.Member || b.liveGraph.member(user, ch.Membership.Member) {
					hit = append(hit, cs...)
				}
			}
			if len(hit) > 0 {
				im := sessionsImpact(plan.ImpactRevoked, instance, hit)
				im.Summary = fmt.Sprintf("membership %s is revoked: %s of %s may rely on the privileges of %s",
					ch.Object, countOf(im), strings.Join(usersOf(hit), ", "), strings.Join(ch.Membership.Roles, ", "))
				ch.Impact = append(ch.Impact, im)
			}
		case ch.Kind == plan.KindPrivilege:
			b.connectImpact(instance, ch, byUser)
		}
	}
}

func (b *builder) attrImpact(instance string, ch *plan.Change, cs []client) {
	if len(cs) == 0 {
		return
	}
	a := ch.Role.Attrs
	live := b.liveRoles[ch.Role.Name]
	n := 0 // sessions open now: what a connection limit counts
	for _, c := range cs {
		if !c.logged {
			n += c.sessions
		}
	}
	add := func(kind plan.ImpactKind, what string, cs []client) {
		im := sessionsImpact(kind, instance, cs)
		im.CutsOff = true
		im.Summary = fmt.Sprintf("role %s %s", ch.Role.Name, what)
		ch.Impact = append(ch.Impact, im)
	}
	all := sessionsImpact("", instance, cs)
	if a.Login != nil && !*a.Login {
		add(plan.ImpactNoLogin, fmt.Sprintf("becomes NOLOGIN: %s of it; open ones stay, but none can log in again", countOf(all)), cs)
	}
	if t, ok := a.Expiry(); ok && !t.After(b.now) {
		add(plan.ImpactExpired, fmt.Sprintf("gets VALID UNTIL %s, in the past: %s of it cannot log in again with a password",
			a.ValidUntil, countOf(all)), cs)
	}
	if a.ConnLimit != nil && *a.ConnLimit >= 0 && n > *a.ConnLimit && (live == nil || !live.Superuser) {
		var open []client
		for _, c := range cs {
			if !c.logged {
				open = append(open, c)
			}
		}
		add(plan.ImpactConnLimit, fmt.Sprintf("gets CONNECTION LIMIT %d below its %s on this instance: %d would not get back in",
			*a.ConnLimit, plural(n, "open session", "open sessions"), n-*a.ConnLimit), open)
	}
}

func (b *builder) droppedImpact(instance string, st *model.InstanceState, ch *plan.Change, cs []client) {
	var im plan.Impact
	if len(cs) > 0 {
		im = sessionsImpact(plan.ImpactDropped, instance, cs)
		im.CutsOff = true
	}
	im.Kind, im.Instance = plan.ImpactDropped, instance
	var what []string
	if im.Sessions > 0 {
		what = append(what, "its "+plural(im.Sessions, "session is", "sessions are")+" terminated")
	}
	if im.Logged > 0 {
		what = append(what, plural(im.Logged, "connection", "connections")+" logged recently will fail")
	}
	// Objects are cluster-wide: counted once, on the primary.
	if live := b.liveRoles[ch.Role.Name]; live != nil && b.pl == st && len(live.Owns) > 0 {
		im.Objects = maps.Clone(live.Owns)
		n := 0
		for _, k := range slices.Sorted(maps.Keys(live.Owns)) {
			n += live.Owns[k]
		}
		succ := "its successor"
		if ch.Role.Drop != nil && ch.Role.Drop.Successor != "" {
			succ = ch.Role.Drop.Successor
		}
		what = append(what, fmt.Sprintf("it owns %s (reassigned to %s, its privileges dropped)", plural(n, "object", "objects"), succ))
	}
	if len(what) == 0 {
		return
	}
	im.Summary = "role " + ch.Role.Name + " is dropped: " + strings.Join(what, "; ")
	ch.Impact = append(ch.Impact, im)
}

// connectImpact: CONNECT revoked on a database from a grantee whose
// sessions are in it.
func (b *builder) connectImpact(instance string, ch *plan.Change, byUser map[string][]client) {
	for _, g := range ch.Grants {
		if !g.Revoke || g.On != plan.OnDatabase || !slices.ContainsFunc(g.Privileges, func(p string) bool { return p == "CONNECT" || p == "ALL PRIVILEGES" || p == "ALL" }) {
			continue
		}
		var hit []client
		for _, user := range slices.Sorted(maps.Keys(byUser)) {
			cs := byUser[user]
			if g.Grantee != "" && user != g.Grantee && !b.liveGraph.member(user, g.Grantee) {
				continue
			}
			for _, c := range cs {
				if c.group.Database == g.Database {
					hit = append(hit, c)
				}
			}
		}
		if len(hit) == 0 {
			continue
		}
		grantee := g.Grantee
		if grantee == "" {
			grantee = "PUBLIC"
		}
		im := sessionsImpact(plan.ImpactPrivilege, instance, hit)
		im.Summary = fmt.Sprintf("CONNECT on database %s is revoked from %s: %s of %s are connected to it and may rely on it to reconnect",
			g.Database, grantee, countOf(im), strings.Join(usersOf(hit), ", "))
		ch.Impact = append(ch.Impact, im)
	}
}

// sessionsImpact gathers sessions by user and network, without HBA lines.
func sessionsImpact(kind plan.ImpactKind, instance string, cs []client) plan.Impact {
	g := &impactGroups{}
	for _, c := range cs {
		if c.hidden {
			c.network = "not visible"
		}
		g.add(c, verdict{}, verdict{})
	}
	return g.impact(kind, instance)
}

func usersOf(cs []client) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.group.User) {
			out = append(out, c.group.User)
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("%d more", len(out)-5))
	}
	return out
}
