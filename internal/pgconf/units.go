package pgconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// unit is one entry of guc.c's unit conversion tables: a name a value may
// carry and its size in the family's smallest unit (bytes or microseconds).
type unit struct {
	name string
	size float64
}

// The tables in guc.c's order, greatest unit first: the rounding rule of
// convert_to_base_unit looks at the next smaller unit.
func memoryUnits() []unit {
	return []unit{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"B", 1}}
}

func timeUnits() []unit {
	return []unit{{"d", 86400e6}, {"h", 3600e6}, {"min", 60e6}, {"s", 1e6}, {"ms", 1e3}, {"us", 1}}
}

const (
	memoryHint = `Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".`
	timeHint   = `Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`
)

// baseUnit is a parameter's unit as pg_settings.unit names it ("8kB", "ms").
type baseUnit struct {
	units []unit  // the family's table
	size  float64 // the base unit's size in the family's smallest unit
	hint  string
}

// parseBaseUnit reads pg_settings.unit: an optional multiplier followed by
// a memory or time unit ("8kB" is the block size). "" means unitless and
// returns nil.
func parseBaseUnit(s string) (*baseUnit, error) {
	if s == "" {
		return nil, nil
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	mult := 1.0
	if digits > 0 {
		n, err := strconv.Atoi(s[:digits])
		if err != nil || n == 0 {
			return nil, fmt.Errorf("unknown unit %q", s)
		}
		mult = float64(n)
	}
	for _, fam := range []struct {
		units []unit
		hint  string
	}{{memoryUnits(), memoryHint}, {timeUnits(), timeHint}} {
		for _, u := range fam.units {
			if u.name == s[digits:] {
				return &baseUnit{units: fam.units, size: mult * u.size, hint: fam.hint}, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown unit %q", s)
}

// convert is guc.c's convert_to_base_unit: rest is what follows the number
// and its spaces (a unit of at most three characters, then only spaces).
// A fractional value is rounded (rint, half to even) to a multiple of the
// next smaller unit, if there is one.
func (b *baseUnit) convert(v float64, rest string) (float64, bool) {
	end := 0
	for end < len(rest) && !isSpace(rest[end]) {
		end++
	}
	name := rest[:end]
	if len(name) > 3 || skipSpace(rest, end) != len(rest) {
		return 0, false
	}
	for i, u := range b.units {
		if u.name != name {
			continue
		}
		c := v * (u.size / b.size)
		if i+1 < len(b.units) {
			next := b.units[i+1].size / b.size
			c = math.RoundToEven(c/next) * next
		}
		return c, true
	}
	return 0, false
}
