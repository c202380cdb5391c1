package spec

import (
	"fmt"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

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
	p.Restart, p.Window = model.RestartNever, 3*60
	if v := s.get("reconciler_restart"); v != nil {
		switch v.scalar() {
		case model.RestartNever, model.RestartScheduled:
			p.Restart = v.scalar()
		default:
			cs.fail(v.pos(), RuleParameter, "cluster %s: reconciler_restart %q: want never or scheduled", cs.c.Name, v.scalar())
		}
	}
	if v := s.get("reconciler_restart_window"); v != nil {
		if m, err := windowStart(v.scalar()); err != nil {
			cs.fail(v.pos(), RuleParameter, "cluster %s: reconciler_restart_window: %v", cs.c.Name, err)
		} else {
			p.Window = m
		}
	}
	cs.c.Patroni = p
}

// windowStart reads "HH:MM" (UTC) as minutes after midnight.
func windowStart(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q: want HH:MM, UTC", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}
