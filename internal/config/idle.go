package config

import (
	"fmt"
	"time"
)

// Idle is how long something unused is kept, written as a duration
// ("10m", "90s"), or "off" (or 0): not kept at all.
type Idle time.Duration

// IdleOff is "off".
const IdleOff Idle = -1

// DefaultSessionIdle is session_idle when the file leaves it out.
const DefaultSessionIdle = Idle(10 * time.Minute)

// ParseIdle reads an Idle.
func ParseIdle(s string) (Idle, error) {
	if s == "off" {
		return IdleOff, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid duration %q (write e.g. 10m, 90s, or off)", s)
	}
	if v == 0 {
		return IdleOff, nil
	}
	return Idle(v), nil
}

func (d *Idle) UnmarshalText(b []byte) error {
	v, err := ParseIdle(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Idle) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String is "off" or the duration.
func (d Idle) String() string {
	if d.Off() {
		return "off"
	}
	return time.Duration(d).String()
}

// Off reports whether nothing is kept.
func (d Idle) Off() bool { return d <= 0 }

// D is the duration; 0 when off.
func (d Idle) D() time.Duration {
	if d.Off() {
		return 0
	}
	return time.Duration(d)
}
