package config

import (
	"strings"
	"testing"
	"time"
)

// TestChangeLogRetentionKeys: change_log.max_age (a duration, days or
// off; default a year, applied by apply.Retention's zero value) and
// change_log.max_rows, in YAML and CUE; bad values are errors.
func TestChangeLogRetentionKeys(t *testing.T) {
	base := "sources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\n"
	day := 24 * time.Hour
	for _, tc := range []struct {
		name, src string
		age       time.Duration
		rows      int64
	}{
		{"r.yml", base, 0, 0},
		{"r.yml", base + "change_log: {max_age: 90d, max_rows: 500000}\n", 90 * day, 500000},
		{"r.yml", base + "change_log: {max_age: 720h}\n", 30 * day, 0},
		{"r.yml", base + "change_log: {max_age: off}\n", -1, 0},
		{"r.cue", `sources: [{name: "a", url: "x"}], trust: allowed_signers: "f", change_log: {max_age: "730d", max_rows: 10}`, 730 * day, 10},
	} {
		c, err := Parse(tc.name, []byte(tc.src))
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if c.ChangeLog.MaxAge.D() != tc.age || c.ChangeLog.MaxRows != tc.rows {
			t.Errorf("%q: %v, %d; want %v, %d", tc.src, c.ChangeLog.MaxAge.D(), c.ChangeLog.MaxRows, tc.age, tc.rows)
		}
	}
	for src, want := range map[string]string{
		base + "change_log: {max_age: 0d}\n":      `invalid age "0d"`,
		base + "change_log: {max_age: -5h}\n":     `invalid age "-5h"`,
		base + "change_log: {max_age: forever}\n": `invalid age "forever"`,
		base + "change_log: {max_rows: -1}\n":     "change_log.max_rows: -1: want 0 (no limit) or more",
		base + "change_log: {max_lines: 10}\n":    "max_lines",
	} {
		_, err := Parse("r.yml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
	if b, _ := Age(365 * day).MarshalText(); string(b) != "365d" {
		t.Errorf("365 days marshal as %q", b)
	}
}
