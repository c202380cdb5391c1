package pgconf

import (
	"math"
	"testing"
)

func TestStrtol(t *testing.T) {
	tests := []struct {
		in     string
		v      int64
		n      int
		erange bool
	}{
		{"42", 42, 2, false},
		{"  -42x", -42, 5, false},
		{"+7", 7, 2, false},
		{"0x1A", 26, 4, false},
		{"0X1a.5", 26, 4, false},
		{"0x", 0, 1, false},
		{"0xg", 0, 1, false},
		{"017", 15, 3, false},
		{"08", 0, 1, false},
		{"", 0, 0, false},
		{" ", 0, 0, false},
		{"-", 0, 0, false},
		{".5", 0, 0, false},
		{"9223372036854775807", math.MaxInt64, 19, false},
		{"9223372036854775808", math.MaxInt64, 19, true},
		{"-9223372036854775808", math.MinInt64, 20, false},
		{"-9223372036854775809", math.MinInt64, 20, true},
	}
	for _, tt := range tests {
		v, n, erange := strtol(tt.in)
		if v != tt.v || n != tt.n || erange != tt.erange {
			t.Errorf("strtol(%q) = %d, %d, %v; want %d, %d, %v", tt.in, v, n, erange, tt.v, tt.n, tt.erange)
		}
	}
}

func TestStrtod(t *testing.T) {
	tests := []struct {
		in     string
		v      float64
		n      int
		erange bool
	}{
		{"1.5", 1.5, 3, false},
		{" -1.5e3x", -1500, 7, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{".5", 0.5, 2, false},
		{"5.", 5, 2, false},
		{".", 0, 0, false},
		{"0x1.8p1", 3, 7, false},
		{"0x10", 16, 4, false},
		{"0x.8", 0.5, 4, false},
		{"0x", 0, 1, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"infinit", math.Inf(1), 3, false},
		{"1e400", math.Inf(1), 5, true},
		{"1e-400", 0, 6, true},
		{"0e-400", 0, 6, false},
		{"1e-310", 1e-310, 6, true},
		{"", 0, 0, false},
		{"e5", 0, 0, false},
	}
	for _, tt := range tests {
		v, n, erange := strtod(tt.in)
		if v != tt.v || n != tt.n || erange != tt.erange {
			t.Errorf("strtod(%q) = %g, %d, %v; want %g, %d, %v", tt.in, v, n, erange, tt.v, tt.n, tt.erange)
		}
	}
	if v, n, _ := strtod("nan(123)x"); !math.IsNaN(v) || n != 8 {
		t.Errorf("strtod(nan(123)x) = %g, %d", v, n)
	}
}
