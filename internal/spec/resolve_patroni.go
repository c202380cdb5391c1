package spec

import "github.com/pgreconciler/pgreconciler/internal/model"

// decodePatroni resolves the patroni_* variables with the primary's scope
// (Patroni is configured alike on every member), Pigsty's defaults filling
// what the inventory leaves out.
func (cs *clusterSrc) decodePatroni() {
	s := cs.primary
	p := model.PatroniSpec{
		Enabled:  boolOr(s.get("patroni_enabled"), true),
		Mode:     s.str("patroni_mode"),
		Port:     model.DefaultPatroniPort,
		SSL:      boolOr(s.get("patroni_ssl_enabled"), false),
		Username: s.str("patroni_username"),
		Password: model.NewSecret(s.str("patroni_password")),
	}
	if p.Mode == "" {
		p.Mode = "default"
	}
	if p.Username == "" {
		p.Username = model.DefaultPatroniUsername
	}
	if p.Password.IsZero() {
		p.Password = model.NewSecret(model.DefaultPatroniPassword)
	}
	if v := s.get("patroni_port"); v != nil && v.kind == kindInt {
		if port, ok := cs.integer(v); ok {
			p.Port = port
		}
	}
	cs.c.Patroni = p
}
