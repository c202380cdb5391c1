package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes, written as GOMEMLIMIT is: an integer with
// an optional unit B, KiB, MiB, GiB or TiB ("768MiB"), or "off" (no limit).
type ByteSize int64

// NoLimit is "off".
const NoLimit ByteSize = -1

// DefaultMemoryLimit is the daemon's memory_limit when the file leaves it
// out: room for a 1,000-cluster fleet, whose cold load peaks at about
// 450 MiB of heap (BENCHMARKS.md), with headroom for the reconciles.
const DefaultMemoryLimit ByteSize = 1 << 30

// minMemoryLimit is the smallest memory_limit accepted: below it the
// garbage collector would run all the time (and "512" meaning 512 bytes is
// a typo).
const minMemoryLimit ByteSize = 64 << 20

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

// ParseByteSize reads a ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	if s == "off" {
		return NoLimit, nil
	}
	num, shift := s, uint(0)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("invalid size %q (write e.g. 768MiB, 2GiB, or off)", s)
	}
	return ByteSize(n << shift), nil
}

func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// String writes b in the largest unit that divides it; "off" for NoLimit
// and for the runtime's no-limit value.
func (b ByteSize) String() string {
	if b < 0 || b == 1<<63-1 {
		return "off"
	}
	for _, u := range byteUnits {
		if m := ByteSize(1) << u.shift; b >= m && b%m == 0 {
			return strconv.FormatInt(int64(b/m), 10) + u.suffix
		}
	}
	return "0B"
}

// Bytes is the limit for debug.SetMemoryLimit: math.MaxInt64 for off.
func (b ByteSize) Bytes() int64 {
	if b < 0 {
		return 1<<63 - 1
	}
	return int64(b)
}
