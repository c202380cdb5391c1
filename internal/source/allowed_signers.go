package source

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// allowedSigner is one line of a git allowed_signers file, in the format
// of ssh-keygen(1) ALLOWED SIGNERS:
//
//	principals [options] keytype base64-key [comment]
type allowedSigner struct {
	pos        string // "file:line"
	principals string // comma-separated patterns, as written (quotes removed)
	key        ssh.PublicKey
	namespaces string // pattern list; "" when the option is absent (any namespace)
	hasNS      bool
	validAfter time.Time // zero when absent
	validUntil time.Time // valid-before; zero when absent
}

// parseAllowedSigners parses an allowed_signers file. Times without a Z (or
// UTC) suffix are read in loc, as ssh-keygen reads them in the system time
// zone. Unlike ssh-keygen, which skips a line it cannot parse, any bad line
// is an error naming name:line: a trust file is either right or refused.
// Every bad line is reported, one per line of the error. The
// cert-authority option is refused as unsupported.
func parseAllowedSigners(name string, data []byte, loc *time.Location) ([]allowedSigner, error) {
	var out []allowedSigner
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		pos := fmt.Sprintf("%s:%d", name, i+1)
		line = strings.TrimRight(line, "\r")
		rest := strings.TrimLeft(line, " \t")
		if rest == "" || rest[0] == '#' {
			continue
		}
		a, err := parseAllowedSignerLine(rest, loc)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse allowed signers %s: %w", pos, err))
			continue
		}
		a.pos = pos
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseAllowedSignerLine(line string, loc *time.Location) (allowedSigner, error) {
	var a allowedSigner
	principals, rest, err := cutPrincipals(line)
	if err != nil {
		return a, err
	}
	a.principals = principals
	if strings.TrimSpace(rest) == "" {
		return a, errors.New("missing key")
	}
	key, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return a, fmt.Errorf("invalid key: %w", err)
	}
	a.key = key
	if _, ok := key.(*ssh.Certificate); ok {
		return a, errors.New("a certificate is not a signing key")
	}
	seen := map[string]bool{}
	for _, opt := range opts {
		name, value, hasValue := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		if seen[name] {
			return a, fmt.Errorf("option %s given twice", name)
		}
		seen[name] = true
		if name == "cert-authority" {
			return a, errors.New("cert-authority is not supported: list the signing keys themselves")
		}
		if !hasValue {
			return a, fmt.Errorf("unsupported option %q", opt)
		}
		v, err := dequote(value)
		if err != nil {
			return a, fmt.Errorf("option %s: %w", name, err)
		}
		switch name {
		case "namespaces":
			a.namespaces, a.hasNS = v, true
		case "valid-after":
			if a.validAfter, err = parseSSHTime(v, loc); err != nil {
				return a, fmt.Errorf("invalid valid-after time: %w", err)
			}
		case "valid-before":
			if a.validUntil, err = parseSSHTime(v, loc); err != nil {
				return a, fmt.Errorf("invalid valid-before time: %w", err)
			}
		default:
			return a, fmt.Errorf("unsupported option %q", name)
		}
	}
	return a, nil
}

// cutPrincipals splits the principals field off the front of a line. Like
// OpenSSH's strdelimw it may be wrapped in double quotes.
func cutPrincipals(line string) (principals, rest string, err error) {
	if strings.HasPrefix(line, `"`) {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return "", "", errors.New("unterminated quoted principals")
		}
		principals, rest = line[1:1+end], line[2+end:]
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			return "", "", errors.New("no space after quoted principals")
		}
	} else {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return "", "", errors.New("missing key")
		}
		principals, rest = line[:i], line[i:]
	}
	if principals == "" {
		return "", "", errors.New("empty principals")
	}
	return principals, rest, nil
}

// dequote removes the double quotes around an option value; inside, \"
// stands for a quote.
func dequote(v string) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("value must be in double quotes")
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), nil
}

// parseSSHTime parses a timestamp the way OpenSSH's parse_absolute_time
// does: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in UTC when suffixed with
// Z or UTC (any case), otherwise in loc.
func parseSSHTime(s string, loc *time.Location) (time.Time, error) {
	v, zone := s, loc
	switch {
	case len(v) > 1 && strings.EqualFold(v[len(v)-1:], "z"):
		v, zone = v[:len(v)-1], time.UTC
	case len(v) > 3 && strings.EqualFold(v[len(v)-3:], "utc"):
		v, zone = v[:len(v)-3], time.UTC
	}
	var layout string
	switch len(v) {
	case 8:
		layout = "20060102"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return time.Time{}, fmt.Errorf("%q is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]", s)
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return time.Time{}, fmt.Errorf("%q is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]", s)
		}
	}
	t, err := time.ParseInLocation(layout, v, zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	if t.Unix() <= 0 {
		return time.Time{}, fmt.Errorf("%q is not after 1970", s)
	}
	return t, nil
}

// admits reports why the line does not allow its key to sign in namespace
// at time at, or nil when it does. Both bounds are inclusive, as in
// ssh-keygen: the key is valid at valid-after and at valid-before.
func (a *allowedSigner) admits(namespace string, at time.Time) error {
	if a.hasNS && matchPatternList(namespace, a.namespaces) != 1 {
		return fmt.Errorf("%s: key is not permitted for namespace %q (namespaces=%q)", a.pos, namespace, a.namespaces)
	}
	if !a.validAfter.IsZero() && at.Before(a.validAfter) {
		return fmt.Errorf("%s: key is not yet valid: commit time %s < valid-after %s", a.pos, stamp(at), stamp(a.validAfter))
	}
	if !a.validUntil.IsZero() && at.After(a.validUntil) {
		return fmt.Errorf("%s: key has expired: commit time %s > valid-before %s", a.pos, stamp(at), stamp(a.validUntil))
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// matchPatternList is OpenSSH's match_pattern_list (case-sensitive): 1 when
// s matches a pattern of the comma-separated list, -1 when it matches a
// negated (!) pattern, 0 otherwise.
func matchPatternList(s, list string) int {
	got := 0
	for _, p := range strings.Split(list, ",") {
		negated := strings.HasPrefix(p, "!")
		if negated {
			p = p[1:]
		}
		if matchPattern(s, p) {
			if negated {
				return -1
			}
			got = 1
		}
	}
	return got
}

// matchPattern matches s against a pattern where * is any run of bytes and
// ? any single byte (OpenSSH's match_pattern).
func matchPattern(s, p string) bool {
	// Iterative glob with single-star backtracking: linear-ish, no recursion.
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
