package config

import (
	"strings"
	"testing"
	"time"
)

func TestAuditKeys(t *testing.T) {
	c, err := Parse("r.yml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Interval.D() != time.Hour || c.Audit.Profile != "baseline" {
		t.Errorf("audit defaults: %+v, want 1h and baseline", c.Audit)
	}
	c, err = Parse("r.yml", []byte(good+"audit: {interval: 15m, profile: strict}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Interval.D() != 15*time.Minute || c.Audit.Profile != "strict" {
		t.Errorf("audit: %+v, want 15m and strict", c.Audit)
	}
	_, err = Parse("r.yml", []byte(good+"audit: {interval: 500ms, profile: paranoid}\n"))
	if err == nil || !strings.Contains(err.Error(), "audit.interval: 500ms: want at least 1s") ||
		!strings.Contains(err.Error(), `audit.profile: "paranoid": want baseline, strict or none`) {
		t.Errorf("bad audit keys: %v", err)
	}
}
