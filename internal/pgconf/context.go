package pgconf

import "github.com/pgreconciler/pgreconciler/internal/model"

// pg_settings.context values.
const (
	ctxInternal         = "internal"
	ctxPostmaster       = "postmaster"
	ctxSighup           = "sighup"
	ctxSuperuserBackend = "superuser-backend"
	ctxBackend          = "backend"
	ctxSuperuser        = "superuser"
	ctxUser             = "user"
)

// RequiresRestart reports whether a new value takes effect only when the
// server restarts (context postmaster). ALTER SYSTEM and a reload then only
// set pending_restart; the reconciler records that and never restarts.
func RequiresRestart(s *model.LiveSetting) bool { return s.Context == ctxPostmaster }

// Reloadable reports whether ALTER SYSTEM plus pg_reload_conf() makes a new
// value live without a restart (for NewSessionsOnly parameters, in new
// sessions only).
func Reloadable(s *model.LiveSetting) bool {
	switch s.Context {
	case ctxSighup, ctxSuperuserBackend, ctxBackend, ctxSuperuser, ctxUser:
		return true
	}
	return false
}

// NewSessionsOnly reports whether a reloaded value reaches only sessions
// started afterwards (contexts backend and superuser-backend).
func NewSessionsOnly(s *model.LiveSetting) bool {
	return s.Context == ctxBackend || s.Context == ctxSuperuserBackend
}

// ReadOnly reports whether the parameter cannot be set at all (context
// internal: block_size, server_version …).
func ReadOnly(s *model.LiveSetting) bool { return s.Context == ctxInternal }
