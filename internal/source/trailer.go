package source

import (
	"strings"
)

// ImpactAcceptedTrailer is the commit trailer by which a reviewer accepts
// that a commit cuts off live clients (the plan's impact preview): with it,
// `reconciler plan --fail-on-impact` passes and the daemon applies the
// commit; without it, the daemon holds the changes that cut clients off.
// It is part of the commit message, so it is covered by the commit's
// signature like the rest of the commit.
const ImpactAcceptedTrailer = "Impact-Accepted"

// Trailers returns the values of the trailers called key (compared
// without regard to case) in a commit message, as git interpret-trailers
// reads them: the lines "Key: value" of the message's last paragraph,
// when every line of that paragraph is a trailer or the continuation
// (indented) of one.
func Trailers(message, key string) []string {
	paras := strings.Split(strings.TrimSpace(strings.ReplaceAll(message, "\r\n", "\n")), "\n\n")
	if len(paras) < 2 { // a subject alone has no trailers
		return nil
	}
	var out []string
	for _, line := range strings.Split(paras[len(paras)-1], "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a continuation: the values asked for are one word
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil // not a trailer block
		}
		if strings.EqualFold(k, key) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// ImpactAccepted reports whether a commit message carries
// "Impact-Accepted: yes" (or true) in its trailers.
func ImpactAccepted(message string) bool {
	for _, v := range Trailers(message, ImpactAcceptedTrailer) {
		if strings.EqualFold(v, "yes") || strings.EqualFold(v, "true") {
			return true
		}
	}
	return false
}
