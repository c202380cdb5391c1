package config

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// TestPgBouncerMode: poolers are off unless the configuration says
// otherwise, off is a mode of that class only, and --mode never turns
// them on.
func TestPgBouncerMode(t *testing.T) {
	const base = "sources: [{name: s, url: /srv/fleet}]\ntrust: {allowed_signers: /etc/pgreconciler/allowed_signers}\n"
	c, err := Parse("r.yml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Modes.Of(model.DriftPgBouncer); got != ModeOff {
		t.Errorf("default modes.pgbouncer = %q, want off", got)
	}
	c.Modes.SetAll(ModeObserve)
	if c.Modes.PgBouncer != ModeOff || c.Modes.User != ModeObserve {
		t.Errorf("SetAll(observe): %+v, want pgbouncer still off", c.Modes)
	}
	c.Modes.PgBouncer = ModeApply
	c.Modes.SetAll(ModeObserve)
	if c.Modes.PgBouncer != ModeObserve {
		t.Errorf("SetAll(observe) on managed poolers: %q", c.Modes.PgBouncer)
	}
	for _, tc := range []struct{ modes, problem string }{
		{"modes: {pgbouncer: apply}", ""},
		{"modes: {pgbouncer: off}", ""},
		{"modes: {pgbouncer: sometimes}", `modes.pgbouncer: "sometimes": want apply, observe or off`},
		{"modes: {hba: off}", `modes.hba: "off": want apply or observe`},
	} {
		_, err := Parse("r.yml", []byte(base+tc.modes+"\n"))
		switch {
		case tc.problem == "" && err != nil:
			t.Errorf("%s: %v", tc.modes, err)
		case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("%s: %v, want %q", tc.modes, err, tc.problem)
		}
	}
}
