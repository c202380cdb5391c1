package spec

import "github.com/pgreconciler/pgreconciler/internal/model"

// decodePooler resolves the PgBouncer variables of one host (Pigsty's
// defaults come through the scope) and its pgb_*_hba_rules, recording the
// rules' nodes for the checks.
func (cs *clusterSrc) decodePooler(hs scope, in *model.Instance) {
	p := model.Pooler{
		Enabled:    boolOr(hs.get("pgbouncer_enabled"), true),
		Port:       6432,
		SSLMode:    hs.str("pgbouncer_sslmode"),
		AuthQuery:  boolOr(hs.get("pgbouncer_auth_query"), false),
		RedirectTo: hs.str("pgbouncer_redirect_to"),
		Localhost:  hs.str("pg_localhost"),
	}
	if v := hs.get("pgbouncer_port"); v != nil && v.kind == kindInt {
		if port, ok := cs.integer(v); ok {
			p.Port = port
		}
	}
	p.HBA, cs.pgbHBA[in] = cs.decodeHBALists(hs, "pgb_default_hba_rules", "pgb_hba_rules")
	in.Pooler = p
}

// decodeHBALists decodes a host's default HBA rules (flagged Default)
// followed by its own, with the nodes they came from.
func (cs *clusterSrc) decodeHBALists(hs scope, defaults, own string) ([]model.HBARule, []*node) {
	var rules []model.HBARule
	var nodes []*node
	for _, list := range []struct {
		name string
		def  bool
	}{{defaults, true}, {own, false}} {
		v := hs.get(list.name)
		if v == nil || v.kind != kindList {
			continue
		}
		for _, it := range v.items() {
			rules = append(rules, cs.decodeHBARule(it, list.def))
			nodes = append(nodes, it)
		}
	}
	return rules, nodes
}
