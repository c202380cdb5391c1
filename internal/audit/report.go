package audit

import (
	"cmp"
	"slices"
	"time"
)

// Report is an audit's result: the same content feeds the HTML, markdown
// and JSON forms.
type Report struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Commit      string          `json:"commit,omitempty"` // the spec revision audited
	Signer      string          `json:"signer,omitempty"`
	Profile     Profile         `json:"profile"`
	Since       *time.Time      `json:"since,omitempty"`
	Instances   []InstanceInfo  `json:"instances"`
	Controls    []ControlResult `json:"controls"`
	Checks      []CheckResult   `json:"checks"`
	Custody     []*Custody      `json:"custody,omitempty"`
	// Failed is set when a check the profile requires fails somewhere.
	Failed bool `json:"failed"`
}

// InstanceInfo is one audited instance: who read it and what could not
// be read.
type InstanceInfo struct {
	Cluster  string            `json:"cluster"`
	Instance string            `json:"instance"`
	Addr     string            `json:"addr"`
	Role     string            `json:"role"` // primary or replica, as the server runs
	Version  int               `json:"version,omitempty"`
	User     string            `json:"user,omitempty"`
	TLS      bool              `json:"tls"` // the collector's session was encrypted
	Err      string            `json:"error,omitempty"`
	Unread   map[string]string `json:"unread,omitempty"`
}

// Counts counts verdicts.
type Counts struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Unknown       int `json:"unknown"`
	NotApplicable int `json:"not_applicable"`
}

func (c *Counts) add(s Status) {
	switch s {
	case StatusPass:
		c.Pass++
	case StatusFail:
		c.Fail++
	case StatusUnknown:
		c.Unknown++
	case StatusNotApplicable:
		c.NotApplicable++
	}
}

// InstanceVerdict is a check's verdict on one instance.
type InstanceVerdict struct {
	Cluster  string `json:"cluster"`
	Instance string `json:"instance"`
	Verdict
}

// CheckResult is one check over the fleet.
type CheckResult struct {
	Check
	Required bool              `json:"required"` // by the profile
	Controls []string          `json:"controls"`
	Status   Status            `json:"status"` // the worst verdict
	Counts   Counts            `json:"counts"`
	Results  []InstanceVerdict `json:"results"`
}

// ControlResult is one control over the fleet.
type ControlResult struct {
	Control
	// Required is set when the profile requires one of its checks; Status
	// then combines those, else all of them.
	Required bool   `json:"required"`
	Status   Status `json:"status"`
	Counts   Counts `json:"counts"`
}

func buildReport(subjects []*Subject, custody []*Custody, opts Options, at time.Time) *Report {
	r := &Report{GeneratedAt: at, Commit: opts.Commit, Signer: opts.Signer, Profile: opts.Profile, Custody: custody}
	if !opts.Since.IsZero() {
		s := opts.Since
		r.Since = &s
	}
	for _, s := range subjects {
		e := s.Evidence
		info := InstanceInfo{Cluster: s.Cluster.Name, Instance: s.Instance.Name(), Addr: e.Addr, Err: e.Err, Unread: e.Unread}
		if e.Err == "" {
			info.Role, info.Version, info.User, info.TLS = "primary", e.Session.Version, e.Session.User, e.Session.SSL
			if e.Session.InRecovery {
				info.Role = "replica"
			}
		}
		r.Instances = append(r.Instances, info)
	}
	controls := Controls()
	served := map[string][]string{}
	for _, c := range controls {
		for _, id := range c.Checks {
			served[id] = append(served[id], c.ID)
		}
	}
	byID := map[string]*CheckResult{}
	for _, c := range Checks() {
		cr := CheckResult{Check: c, Required: opts.Profile.Requires(c.Level), Controls: served[c.ID], Status: StatusNotApplicable}
		for _, s := range subjects {
			v := c.Judge(s)
			cr.Results = append(cr.Results, InstanceVerdict{Cluster: s.Cluster.Name, Instance: s.Instance.Name(), Verdict: v})
			cr.Counts.add(v.Status)
			cr.Status = worse(cr.Status, v.Status)
		}
		if cr.Required && cr.Status == StatusFail {
			r.Failed = true
		}
		r.Checks = append(r.Checks, cr)
	}
	for i := range r.Checks {
		byID[r.Checks[i].ID] = &r.Checks[i]
	}
	for _, c := range controls {
		cr := ControlResult{Control: c, Status: StatusNotApplicable}
		for _, id := range c.Checks {
			cr.Required = cr.Required || byID[id].Required
		}
		for _, id := range c.Checks {
			ch := byID[id]
			if cr.Required && !ch.Required {
				continue
			}
			cr.Status = worse(cr.Status, ch.Status)
			for _, v := range ch.Results {
				cr.Counts.add(v.Status)
			}
		}
		if len(c.Checks) == 0 {
			cr.Status = StatusUnknown
		}
		r.Controls = append(r.Controls, cr)
	}
	return r
}

// ControlStatus returns, for one instance, each control's status over the
// checks the profile requires (all of them when it requires none): what a
// per-instance metric exports (1 pass, 0 fail, absent otherwise).
func (r *Report) ControlStatus(cluster, instance string) map[string]Status {
	byCheck := map[string]CheckResult{}
	for _, c := range r.Checks {
		byCheck[c.ID] = c
	}
	out := map[string]Status{}
	for _, c := range r.Controls {
		st := StatusNotApplicable
		if len(c.Checks) == 0 {
			st = StatusUnknown
		}
		for _, id := range c.Checks {
			ch := byCheck[id]
			if c.Required && !ch.Required {
				continue
			}
			for _, v := range ch.Results {
				if v.Cluster == cluster && v.Instance == instance {
					st = worse(st, v.Status)
				}
			}
		}
		out[c.ID] = st
	}
	return out
}

// check returns the result of the check called id.
func (r *Report) check(id string) *CheckResult {
	i := slices.IndexFunc(r.Checks, func(c CheckResult) bool { return c.ID == id })
	if i < 0 {
		return nil
	}
	return &r.Checks[i]
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
