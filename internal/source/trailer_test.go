package source

import "testing"

// TestImpactAccepted: the trailer counts only in the message's last
// paragraph, as git reads trailers, whatever its case, with yes or true.
func TestImpactAccepted(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"hba: close 10.1.2.0/24\n\nThe batch host moved.\n\nImpact-Accepted: yes\nSigned-off-by: A <a@example.com>\n", true},
		{"x\n\nimpact-accepted: True", true},
		{"x\r\n\r\nReviewed-by: B\r\nImpact-Accepted: yes\r\n", true},
		{"x\n\nImpact-Accepted: no", false},
		{"Impact-Accepted: yes", false},                                        // a subject, not a trailer
		{"x\n\nImpact-Accepted: yes\n\nmore text after it", false},             // not the last paragraph
		{"x\n\nWe set Impact-Accepted: yes here\nImpact-Accepted: yes", false}, // not a trailer block
		{"x\n\nImpact-Accepted-Not: yes", false},
	} {
		if got := ImpactAccepted(tc.msg); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.msg, got, tc.want)
		}
	}
}
