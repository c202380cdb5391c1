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
	for _, list := range []struct {
		name string
		def  bool
	}{{"pgb_default_hba_rules", true}, {"pgb_hba_rules", false}} {
		v := hs.get(list.name)
		if v == nil || v.kind != kindList {
			continue
		}
		for _, it := range v.items {
			p.HBA = append(p.HBA, cs.decodeHBARule(it, list.def))
			cs.pgbHBA[in] = append(cs.pgbHBA[in], it)
		}
	}
	in.Pooler = p
}
