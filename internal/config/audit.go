package config

import (
	"time"
)

// Audit is the daemon's periodic compliance audit (package audit): every
// Interval it judges the controls of the security reference on every
// cluster it reconciles and exports them as pgreconciler_control_status.
type Audit struct {
	// Interval is how often; default 1h, at least 1s.
	Interval Duration `yaml:"interval" json:"interval"`
	// Profile is the checks a control's status is judged by: baseline
	// (what Pigsty's defaults meet; the default), strict (every check) or
	// none (every check too, nothing required: the report's own meaning).
	Profile string `yaml:"profile" json:"profile"`
}

// DefaultAuditInterval is the audit's interval when the file sets none.
const DefaultAuditInterval = time.Hour

func (a *Audit) defaults() {
	if a.Interval == 0 {
		a.Interval = Duration(DefaultAuditInterval)
	}
	if a.Profile == "" {
		a.Profile = "baseline"
	}
}

func (a *Audit) problems(bad func(format string, args ...any)) {
	if a.Interval.D() < time.Second {
		bad("audit.interval: %s: want at least 1s", a.Interval.D())
	}
	checkProfile(bad, "audit.profile", a.Profile)
}

// checkProfile reports a profile name other than baseline, strict or none
// (the spec's policy profiles and the audit's share the names).
func checkProfile(bad func(format string, args ...any), key, p string) {
	switch p {
	case "baseline", "strict", "none":
	default:
		bad("%s: %q: want baseline, strict or none", key, p)
	}
}
