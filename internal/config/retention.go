package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ChangeLog bounds pgreconciler.change_log on each cluster's primary; the
// daemon enforces it after every apply that wrote rows.
type ChangeLog struct {
	// MaxAge deletes rows older than this: a duration (8760h) or days
	// (365d); "off" keeps rows of any age. Default 365d.
	MaxAge Age `yaml:"max_age" json:"max_age"`
	// MaxRows keeps at most this many rows, the newest; 0 (the default)
	// means no limit.
	MaxRows int64 `yaml:"max_rows" json:"max_rows"`
}

// Age is a retention age: a duration, a number of days ("365d"), or "off"
// (negative: no limit). Zero means the default.
type Age time.Duration

// AgeOff is "off": no age limit.
const AgeOff = Age(-1)

func (a *Age) UnmarshalText(b []byte) error {
	v, err := ParseAge(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func (a Age) MarshalText() ([]byte, error) {
	if a < 0 {
		return []byte("off"), nil
	}
	if d := time.Duration(a); d%(24*time.Hour) == 0 && d > 0 {
		return []byte(strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"), nil
	}
	return []byte(time.Duration(a).String()), nil
}

// ParseAge reads an Age: "off", "365d", or a Go duration ("8760h").
func ParseAge(s string) (Age, error) {
	if s == "off" {
		return AgeOff, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err == nil && n > 0 {
			return Age(time.Duration(n) * 24 * time.Hour), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return Age(d), nil
	}
	return 0, fmt.Errorf("invalid age %q (write e.g. 365d, 720h, or off)", s)
}

// D is the age as apply.Retention reads it: negative for no limit.
func (a Age) D() time.Duration { return time.Duration(a) }
