package model

// OptBool is yes, no, or no opinion (the zero value), in one byte where a
// *bool takes eight: an inventory declares tens of thousands of
// memberships, each with three such options (BENCHMARKS.md, issue #17).
type OptBool uint8

const (
	NoOpinion OptBool = iota
	No
	Yes
)

// OptBoolOf is p as an OptBool: NoOpinion when p is nil.
func OptBoolOf(p *bool) OptBool {
	switch {
	case p == nil:
		return NoOpinion
	case *p:
		return Yes
	default:
		return No
	}
}

// Known reports whether o holds an opinion.
func (o OptBool) Known() bool { return o != NoOpinion }

// True reports whether o is Yes.
func (o OptBool) True() bool { return o == Yes }

// Ptr is o as a *bool: nil for NoOpinion, else a new bool.
func (o OptBool) Ptr() *bool {
	if o == NoOpinion {
		return nil
	}
	v := o == Yes
	return &v
}

func (o OptBool) String() string { return [...]string{"no opinion", "false", "true"}[o] }
