package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// The three forms of a plan: text in the style of terraform plan for
// terminals, markdown for pull-request comments, JSON for machines. None
// of them can show a secret: statements print through Statement.String.

// line is the one-line summary of a change: symbol, kind, object, and
// before → after.
func (c Change) line() string {
	sym := c.Action.Symbol()
	if c.RequiresRestart {
		sym = "!"
	}
	s := sym + " " + string(c.Kind) + " " + c.Object
	switch {
	case c.Before != "" && c.After != "":
		s += ": " + c.Before + " → " + c.After
	case c.After != "":
		s += ": " + c.After
	case c.Before != "":
		s += ": " + c.Before
	}
	if c.RequiresRestart {
		s += " (restart required)"
	}
	return s
}

// details are the lines shown under a change: its SQL (redacted), the HBA
// rule diff, and the reason for changes that are not planned.
func (c Change) details() []string {
	var out []string
	if c.Action == ActionReport || c.Action == ActionNote {
		out = append(out, "# "+c.Reason)
	}
	for _, s := range c.Statements {
		prefix := ""
		if s.Database != "" {
			prefix = "\\c " + s.Database + " -- "
		}
		out = append(out, prefix+s.String()+";")
	}
	if c.HBA != nil {
		out = append(out, c.HBA.Diff...)
	}
	if c.Pooler != nil {
		out = append(out, c.Pooler.Diff...)
	}
	return out
}

func (p *Plan) header() string {
	if p.Commit == "" {
		return ""
	}
	h := "commit " + model.ShortHash(p.Commit)
	if p.Signer != "" {
		h += ", signed by " + p.Signer
	}
	return h
}

// byInstance groups a cluster's changes by instance, in the cluster's
// instance order, keeping plan order within each. The groups point into
// cp.Changes (a plan of 20,000 changes is not copied to be printed).
func (cp *ClusterPlan) byInstance() ([]Instance, [][]*Change) {
	instances := append([]Instance(nil), cp.Instances...)
	idx := make(map[string]int, len(instances))
	for i, in := range instances {
		idx[in.Name] = i
	}
	groups := make([][]*Change, len(instances))
	for k := range cp.Changes {
		ch := &cp.Changes[k]
		i, ok := idx[ch.Instance]
		if !ok {
			i = len(instances)
			idx[ch.Instance] = i
			instances = append(instances, Instance{Name: ch.Instance})
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], ch)
	}
	return instances, groups
}

func (in Instance) String() string {
	var parts []string
	if in.Role != "" {
		parts = append(parts, in.Role)
	}
	if in.Addr != "" {
		parts = append(parts, in.Addr)
	}
	if len(parts) == 0 {
		return in.Name
	}
	return in.Name + " (" + strings.Join(parts, ", ") + ")"
}

// SummaryLine is the last line of a text plan.
func (p *Plan) SummaryLine() string {
	s := p.Summary()
	errs := 0
	for _, c := range p.Clusters {
		errs += len(c.Errors)
	}
	incomplete := ""
	if errs > 0 {
		incomplete = fmt.Sprintf("Plan incomplete: %s. ", plural(errs, "instance could not be inspected", "instances could not be inspected"))
	}
	if !p.HasDrift() {
		if errs > 0 {
			return incomplete + "No changes found in what could be inspected."
		}
		return "No changes. Live state matches the spec."
	}
	line := incomplete + fmt.Sprintf("Plan: %d to add, %d to change, %d to remove.", s.Add, s.Change, s.Remove)
	var extra []string
	if s.Restart > 0 {
		extra = append(extra, plural(s.Restart, "change requires", "changes require")+" a restart (!)")
	}
	if s.Report > 0 {
		extra = append(extra, plural(s.Report, "drift item needs", "drift items need")+" a human (*)")
	}
	if len(extra) > 0 {
		line += " " + strings.Join(extra, "; ") + "."
	}
	return line
}

// WriteText prints the plan for a terminal.
func (p *Plan) WriteText(w io.Writer) error {
	b := bufio.NewWriterSize(w, 64<<10) // a plan of 20,000 changes is 3 MB of text: streamed
	if h := p.header(); h != "" {
		fmt.Fprintf(b, "Plan for %s\n\n", h)
	}
	p.writeImpact(b, false)
	for i := range p.Clusters {
		cp := &p.Clusters[i]
		fmt.Fprintf(b, "cluster %s\n", cp.Name)
		for _, e := range cp.Errors {
			fmt.Fprintf(b, "  error: %s\n", e)
		}
		instances, groups := cp.byInstance()
		empty := true
		for j, g := range groups {
			if len(g) == 0 {
				continue
			}
			empty = false
			fmt.Fprintf(b, "  %s\n", instances[j])
			for _, ch := range g {
				b.WriteString("    " + ch.line() + "\n")
				for _, d := range ch.details() {
					b.WriteString("        " + d + "\n")
				}
			}
		}
		if empty && len(cp.Errors) == 0 {
			b.WriteString("  in sync\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(p.SummaryLine() + "\n")
	return b.Flush()
}

// WriteMarkdown prints the plan as a pull-request comment: a summary
// table, then a collapsible section per cluster with a diff block.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### pgreconciler plan\n\n")
	if h := p.header(); h != "" {
		fmt.Fprintf(&b, "For %s.\n\n", strings.Replace(h, model.ShortHash(p.Commit), "`"+model.ShortHash(p.Commit)+"`", 1))
	}
	p.writeImpact(&b, true)
	b.WriteString("| cluster | add | change | remove | needs a human | restart |\n|---|---:|---:|---:|---:|---:|\n")
	for _, cp := range p.Clusters {
		s := (&Plan{Clusters: []ClusterPlan{cp}}).Summary()
		status := ""
		if len(cp.Errors) > 0 {
			status = " ⚠️"
		}
		fmt.Fprintf(&b, "| `%s`%s | %d | %d | %d | %d | %d |\n", cp.Name, status, s.Add, s.Change, s.Remove, s.Report, s.Restart)
	}
	b.WriteString("\n")
	for i := range p.Clusters {
		cp := &p.Clusters[i]
		sub := &Plan{Clusters: []ClusterPlan{*cp}}
		if !sub.HasDrift() && len(cp.Errors) == 0 && len(cp.Changes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "<details><summary><b>%s</b>: %s</summary>\n\n", cp.Name, strings.TrimSuffix(sub.SummaryLine(), "."))
		for _, e := range cp.Errors {
			fmt.Fprintf(&b, "> **error:** %s\n\n", mdEscape(e))
		}
		b.WriteString("```diff\n")
		instances, groups := cp.byInstance()
		for j, g := range groups {
			if len(g) == 0 {
				continue
			}
			fmt.Fprintf(&b, "# %s\n", instances[j])
			for _, ch := range g {
				b.WriteString(ch.line() + "\n")
				for _, d := range ch.details() {
					b.WriteString("    " + strings.ReplaceAll(d, "```", "'''") + "\n")
				}
			}
		}
		b.WriteString("```\n\n</details>\n\n")
	}
	fmt.Fprintf(&b, "**%s**\n", p.SummaryLine())
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace(s)
}

type jsonChange struct {
	Kind            Kind     `json:"kind"`
	Action          Action   `json:"action"`
	Object          string   `json:"object"`
	Instance        string   `json:"instance"`
	Before          string   `json:"before"`
	After           string   `json:"after"`
	SQL             []string `json:"sql"`
	RequiresRestart bool     `json:"requires_restart"`
	Reason          string   `json:"reason,omitempty"`
	HBADiff         []string `json:"hba_diff,omitempty"`
	Intent          *Intent  `json:"intent,omitempty"`
}

// intent is the JSON form of c's intent, nil when it has none. It holds no
// secret: a password and a parameter's value are never marshalled (After
// shows a value that may be shown), and pg_hba.conf is hba_diff.
func (c Change) intent() *Intent {
	in := c.Intent
	in.HBA = nil
	if reflect.ValueOf(in).IsZero() {
		return nil
	}
	return &in
}

type jsonCluster struct {
	Name    string       `json:"name"`
	Changes []jsonChange `json:"changes"`
	Errors  []string     `json:"errors,omitempty"`
}

type jsonPlan struct {
	Commit   string        `json:"commit,omitempty"`
	Signer   string        `json:"signer,omitempty"`
	Clusters []jsonCluster `json:"clusters"`
	Summary  Summary       `json:"summary"`
	Impact   []Impact      `json:"impact"` // every change's, in plan order (impact.go)
}

// WriteJSON prints the plan for machines.
func (p *Plan) WriteJSON(w io.Writer) error {
	out := jsonPlan{Commit: p.Commit, Signer: p.Signer, Clusters: []jsonCluster{}, Summary: p.Summary(), Impact: p.Impacts()}
	if out.Impact == nil {
		out.Impact = []Impact{}
	}
	for _, cp := range p.Clusters {
		jc := jsonCluster{Name: cp.Name, Changes: []jsonChange{}, Errors: cp.Errors}
		for _, ch := range cp.Changes {
			sql := []string{}
			for _, s := range ch.Statements {
				sql = append(sql, s.String())
			}
			var hd []string
			if ch.HBA != nil {
				hd = ch.HBA.Diff
			}
			jc.Changes = append(jc.Changes, jsonChange{Kind: ch.Kind, Action: ch.Action, Object: ch.Object, Instance: ch.Instance,
				Before: ch.Before, After: ch.After, SQL: sql, RequiresRestart: ch.RequiresRestart, Reason: ch.Reason, HBADiff: hd,
				Intent: ch.intent()})
		}
		out.Clusters = append(out.Clusters, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
