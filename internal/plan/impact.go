package plan

import (
	"fmt"
	"io"
	"strings"
)

// ImpactKind is what a change does to the clients connected now. It is a
// small closed set.
type ImpactKind string

// The kinds of impact. HBA kinds come from running every observed
// connection through the live and the new pg_hba.conf; role kinds from a
// change's intent against the sessions of the role.
const (
	ImpactHBARejected  ImpactKind = "hba_rejected"       // accepted today, rejected by the new rules
	ImpactHBAMethod    ImpactKind = "hba_method"         // accepted today by another authentication method
	ImpactHBAUndecided ImpactKind = "hba_undecided"      // the new deciding line needs the server (samehost, samenet, a host name, @file)
	ImpactNoLogin      ImpactKind = "nologin"            // NOLOGIN on a role with open sessions
	ImpactExpired      ImpactKind = "expired"            // VALID UNTIL in the past on a role with open sessions
	ImpactConnLimit    ImpactKind = "connlimit"          // CONNECTION LIMIT below the sessions open now
	ImpactDropped      ImpactKind = "role_dropped"       // a dropped role with sessions (terminated) or objects
	ImpactRevoked      ImpactKind = "membership_revoked" // a revoked membership the sessions of its member may rely on
	ImpactPrivilege    ImpactKind = "privilege_revoked"  // CONNECT revoked on a database sessions are connected to
)

// MaxImpactClients caps the client groups an Impact lists; Groups and
// Sessions keep the totals.
const MaxImpactClients = 20

// MaxImpactsShown caps the impacts the text and markdown plans show per
// instance; JSON lists them all (each capped by MaxImpactClients).
const MaxImpactsShown = 25

// Impact is what one change would do, on one instance, to the clients
// connected when the plan was made. It holds user names, database names,
// and addresses only: no application name (free text a client chooses),
// no query.
type Impact struct {
	Kind     ImpactKind `json:"kind"`
	Instance string     `json:"instance"`
	// CutsOff marks live clients that would lose access (rejected, no
	// longer allowed to log in, terminated): what --fail-on-impact and
	// the daemon's hold stop on. Other impacts are for the reviewer.
	CutsOff  bool            `json:"cuts_off"`
	Summary  string          `json:"summary"`
	Clients  []ImpactClients `json:"clients,omitempty"` // at most MaxImpactClients, most sessions first
	Groups   int             `json:"groups"`            // client groups affected, all of them
	Sessions int             `json:"sessions"`          // sessions affected, all of them
	Logged   int             `json:"logged,omitempty"`  // connections logged within the log window by clients not connected now
	// Hidden counts the sessions that could not be judged: their address
	// was not visible to the inspecting role (pg_read_all_stats).
	Hidden int `json:"hidden,omitempty"`
	// Objects counts what a dropped role owns, by database ("" = shared).
	Objects map[string]int `json:"objects,omitempty"`
}

// ImpactClients is the sessions of one user from one network that an
// impact hits the same way.
type ImpactClients struct {
	User      string   `json:"user"`
	Network   string   `json:"network"`             // "local" (Unix socket), or the address's /24 (IPv4) or /64 (IPv6)
	Addresses []string `json:"addresses,omitempty"` // at most 5
	SSL       bool     `json:"ssl"`
	Databases []string `json:"databases,omitempty"`
	Sessions  int      `json:"sessions"`
	Logged    int      `json:"logged,omitempty"` // connections logged within the log window, not connected now
	Before    string   `json:"before,omitempty"` // the deciding HBA line today: "line 5: host all all 127.0.0.0/8 scram-sha-256"
	After     string   `json:"after,omitempty"`  // the deciding line of the new rules, or "no line matches"
}

func (c ImpactClients) String() string {
	from := "over the local socket"
	if c.Network != "local" {
		from = "from " + strings.Join(c.Addresses, ", ")
		if c.SSL {
			from += " (ssl)"
		} else {
			from += " (no ssl)"
		}
	}
	s := c.User + " " + from
	if len(c.Databases) > 0 {
		s += " to " + strings.Join(c.Databases, ", ")
	}
	switch {
	case c.Sessions > 0 && c.Logged > 0:
		s += ": " + plural(c.Sessions, "session", "sessions") + " and " + plural(c.Logged, "logged connection", "logged connections")
	case c.Logged > 0:
		s += ": " + plural(c.Logged, "logged connection", "logged connections") + " (not connected now)"
	default:
		s += ": " + plural(c.Sessions, "session", "sessions")
	}
	if c.Before != "" || c.After != "" {
		s += "; " + c.Before + " → " + c.After
	}
	return s
}

// marker is the impact's symbol in the text plan: "!" for clients cut
// off, "~" for the reviewer's attention.
func (im Impact) marker() string {
	if im.CutsOff {
		return "!"
	}
	return "~"
}

// lines are the impact's lines under its instance: the summary, then the
// clients (and how many more there are).
func (im Impact) lines() (head string, details []string) {
	head = im.marker() + " " + im.Summary
	for _, c := range im.Clients {
		details = append(details, c.String())
	}
	if more := im.Groups - len(im.Clients); more > 0 {
		details = append(details, fmt.Sprintf("… and %s not listed", plural(more, "more client group", "more client groups")))
	}
	if im.Hidden > 0 {
		details = append(details, plural(im.Hidden, "session", "sessions")+" not judged: address not visible to the inspecting role (grant it pg_read_all_stats)")
	}
	return head, details
}

// Impacts lists the plan's impacts, in plan order.
func (p *Plan) Impacts() []Impact {
	var out []Impact
	for _, cp := range p.Clusters {
		out = append(out, cp.Impacts()...)
	}
	return out
}

// Impacts lists the cluster plan's impacts, in plan order.
func (cp *ClusterPlan) Impacts() []Impact {
	var out []Impact
	for _, ch := range cp.Changes {
		out = append(out, ch.Impact...)
	}
	return out
}

// CutsOff reports whether a change would cut off live clients.
func (c Change) CutsOff() bool {
	for _, im := range c.Impact {
		if im.CutsOff {
			return true
		}
	}
	return false
}

// CutsOff counts the impacts of the plan that cut off clients, and the
// sessions and logged connections they hit.
func (p *Plan) CutsOff() (impacts, sessions, logged int) {
	for _, im := range p.Impacts() {
		if im.CutsOff {
			impacts++
			sessions += im.Sessions
			logged += im.Logged
		}
	}
	return impacts, sessions, logged
}

// CutOffText says what CutsOff counted: "3 sessions", "2 sessions and 5
// logged connections".
func (p *Plan) CutOffText() string {
	_, sessions, logged := p.CutsOff()
	s := plural(sessions, "session", "sessions")
	if logged > 0 {
		s += " and " + plural(logged, "logged connection", "logged connections")
	}
	return s
}

// writeImpact writes the Impact section, first in a text or markdown
// plan: per cluster and instance, capped at MaxImpactsShown. Nothing when
// no change touches a live client.
func (p *Plan) writeImpact(b textWriter, markdown bool) {
	ims := p.Impacts()
	if len(ims) == 0 {
		return
	}
	title := "Impact on live clients"
	if n, _, _ := p.CutsOff(); n > 0 {
		title += ": " + p.CutOffText() + " cut off"
	}
	if markdown {
		fmt.Fprintf(b, "#### %s\n\n```diff\n", title)
	} else {
		fmt.Fprintf(b, "%s\n", title)
	}
	indent := "  "
	if markdown {
		indent = ""
	}
	for _, cp := range p.Clusters {
		cims := cp.Impacts()
		if len(cims) == 0 {
			continue
		}
		shown := map[string]int{}
		var order []string
		byInstance := map[string][]Impact{}
		for _, im := range cims {
			if _, ok := byInstance[im.Instance]; !ok {
				order = append(order, im.Instance)
			}
			byInstance[im.Instance] = append(byInstance[im.Instance], im)
		}
		for _, inst := range order {
			fmt.Fprintf(b, "%s# %s/%s\n", indent, cp.Name, inst)
			for _, im := range byInstance[inst] {
				if shown[inst] == MaxImpactsShown {
					break
				}
				shown[inst]++
				head, details := im.lines()
				fmt.Fprintf(b, "%s%s\n", indent, strings.ReplaceAll(head, "```", "'''"))
				for _, d := range details {
					fmt.Fprintf(b, "%s      %s\n", indent, strings.ReplaceAll(d, "```", "'''"))
				}
			}
			if more := len(byInstance[inst]) - shown[inst]; more > 0 {
				fmt.Fprintf(b, "%s… and %s on this instance (see the JSON plan)\n", indent, plural(more, "more impact", "more impacts"))
			}
		}
	}
	if markdown {
		b.WriteString("```\n\n")
	} else {
		b.WriteString("\n")
	}
}

// textWriter is what the text and markdown writers write to: a
// strings.Builder or a bufio.Writer.
type textWriter interface {
	io.Writer
	io.StringWriter
}
