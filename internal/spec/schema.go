package spec

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"

	"github.com/pgreconciler/pgreconciler/schema"
)

// schemaPrefix marks positions inside the embedded schema.
const schemaPrefix = "schema/"

// Schema is the embedded CUE schema, compiled for checking data trees.
//
// Checking a spec with the CUE evaluator costs about 10 ms per 50-user
// cluster (BENCHMARKS.md): too slow for fleets and for 10,000-role clusters.
// So the schema's structure (fields, required and optional markers,
// closedness, patterns, list elements, disjunctions) is read once from
// CUE, and data is walked against it in Go; every scalar is still checked
// by CUE itself (unification with the field's constraint), memoised per
// distinct value, with a Go fast path only where CUE says a constraint
// accepts a whole kind or is exactly a regular expression (CUE and Go
// share RE2). The result is the evaluator's verdict at a fraction of the
// cost; tests compare the two on every spec they load.
type Schema struct {
	ctx       *cue.Context
	root      cue.Value
	inventory *snode
	group     *snode // #Group, for nested groups
	defaults  *node
	tops      map[kind]cue.Value
	vars      map[string]bool // the fields of #Vars: the variables pgreconciler reads
	anyProbe  cue.Value       // a value only top (and open structs) accept
	policies  cue.Value
}

// LoadSchema compiles the embedded schema.
func LoadSchema() (*Schema, error) {
	ctx := cuecontext.New()
	root, err := buildPackage(ctx, schema.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("build schema: %w", err)
	}
	pol, err := buildPackage(ctx, schema.FS, "policy")
	if err != nil {
		return nil, fmt.Errorf("build policy profiles: %w", err)
	}
	s := &Schema{ctx: ctx, root: root, policies: pol, tops: map[kind]cue.Value{}}
	for k, src := range map[kind]string{kindString: "string", kindInt: "int", kindFloat: "float", kindBool: "bool", kindNull: "null"} {
		s.tops[k] = ctx.CompileString(src)
	}
	s.anyProbe = ctx.CompileString(`{a: [1, "x", true, null, {b: 1.5}]}`)
	s.inventory = s.newNode(root.LookupPath(cue.ParsePath("#Inventory")))
	s.group = s.newNode(root.LookupPath(cue.ParsePath("#Group")))
	defs := root.LookupPath(cue.ParsePath("#Defaults"))
	if err := defs.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("schema #Defaults: %w", err)
	}
	s.defaults = exportValue(defs, 0, nil)
	s.vars = map[string]bool{}
	it, err := root.LookupPath(cue.ParsePath("#Vars")).Fields(cue.Optional(true))
	if err != nil {
		return nil, fmt.Errorf("schema #Vars: %w", err)
	}
	for it.Next() {
		s.vars[it.Selector().Unquoted()] = true
	}
	return s, nil
}

func buildPackage(ctx *cue.Context, fsys fs.FS, dir string) (cue.Value, error) {
	inst := build.NewContext().NewInstance(dir, nil)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return cue.Value{}, err
	}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".cue" {
			continue
		}
		name := path.Join(dir, e.Name())
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return cue.Value{}, err
		}
		f, err := parser.ParseFile(schemaPrefix+name, src, parser.ParseComments)
		if err != nil {
			return cue.Value{}, err
		}
		if err := inst.AddSyntax(f); err != nil {
			return cue.Value{}, err
		}
	}
	v := ctx.BuildInstance(inst)
	if err := v.Validate(); err != nil {
		return cue.Value{}, fmt.Errorf("%s", cueerrors.Details(err, nil))
	}
	return v, nil
}

// snode is one constraint of the schema with what the walk needs of it,
// computed lazily and kept.
type snode struct {
	s     *Schema
	v     cue.Value
	kinds cue.Kind
	alts  []cue.Value // disjunction alternatives (dereferenced), or v alone
	any   bool        // _ (top): every value is allowed

	views map[kind]*snode // single alternative for a data kind

	// struct
	structDone bool
	fields     map[string]*sfield
	required   []string
	pattern    *snode
	allowed    map[string]bool

	// list
	elem *snode

	// scalar
	whole   [kindMap + 1]int8 // per data kind: 1 every scalar of it is valid, -1 not, 0 not yet known
	re      *textMatcher      // the constraint when it is exactly =~"pattern"
	reSet   bool
	text    *snode // the alternative for strings, when it is exactly =~"pattern"
	textSet bool
	memo    map[memoKey]string // kind+value → "" (valid) or message; see checkScalar
}

type sfield struct {
	node     *snode
	required bool
}

func (s *Schema) newNode(v cue.Value) *snode {
	n := &snode{s: s, v: v, kinds: v.IncompleteKind(), views: map[kind]*snode{}}
	n.alts = alternatives(v)
	n.any = n.kinds == cue.TopKind && v.Subsume(s.anyProbe) == nil
	return n
}

// alternatives flattens a disjunction, following references.
func alternatives(v cue.Value) []cue.Value {
	d := cue.Dereference(v)
	op, args := d.Expr()
	if op != cue.OrOp {
		return []cue.Value{v}
	}
	var out []cue.Value
	for _, a := range args {
		out = append(out, alternatives(a)...)
	}
	return out
}

func cueKind(k kind) cue.Kind {
	switch k {
	case kindNull:
		return cue.NullKind
	case kindBool:
		return cue.BoolKind
	case kindInt:
		return cue.IntKind
	case kindFloat:
		return cue.FloatKind
	case kindString:
		return cue.StringKind
	case kindList:
		return cue.ListKind
	}
	return cue.StructKind
}

// view returns the alternative of n that data of kind k must satisfy, or
// nil when none or several do.
func (n *snode) view(k kind) *snode {
	if v, ok := n.views[k]; ok {
		return v
	}
	var match []cue.Value
	for _, a := range n.alts {
		if a.IncompleteKind()&cueKind(k) != 0 {
			match = append(match, a)
		}
	}
	var out *snode
	switch {
	case len(match) == 1 && len(n.alts) == 1:
		out = n
	case len(match) == 1:
		out = n.s.newNode(match[0])
	}
	n.views[k] = out
	return out
}

func (n *snode) compileStruct() {
	if n.structDone {
		return
	}
	n.structDone = true
	n.fields = map[string]*sfield{}
	n.allowed = map[string]bool{}
	it, err := n.v.Fields(cue.Optional(true))
	if err == nil {
		for it.Next() {
			sel := it.Selector()
			name := sel.Unquoted()
			f := &sfield{node: n.s.newNode(it.Value())}
			if sel.ConstraintType() == cue.RequiredConstraint {
				f.required = true
			} else if sel.ConstraintType() != cue.OptionalConstraint {
				// A regular field must end up concrete: required unless
				// it has a default.
				if _, ok := it.Value().Default(); !ok && !it.Value().IsConcrete() {
					f.required = true
				}
			}
			n.fields[name] = f
			if f.required {
				n.required = append(n.required, name)
			}
		}
	}
	if p := n.v.LookupPath(cue.MakePath(cue.AnyString)); p.Exists() {
		n.pattern = n.s.newNode(p)
	}
}

func (n *snode) allows(key string) bool {
	if ok, seen := n.allowed[key]; seen {
		return ok
	}
	ok := n.v.Allows(cue.Str(key))
	n.allowed[key] = ok
	return ok
}

// The memo of a schema node lives as long as the Loader (the daemon's
// lifetime) and sees every commit's values: it is bounded, and short values
// (names, enumerations, numbers), the ones that repeat, are the ones kept.
const (
	maxMemo      = 4096 // verdicts per schema node
	maxMemoValue = 64   // bytes of a value worth keeping
)

// memoKey is a scalar's kind and text, a memo's key.
type memoKey struct {
	kind   kind
	scalar string
}

// checkScalar returns "" when CUE accepts the scalar d for this
// constraint, else CUE's message. The verdict is memoised per distinct
// value when memoise is set (never for a secret: the memo would keep it)
// and the value is short, while the memo has room.
func (n *snode) checkScalar(d *node, memoise bool) string {
	if n.acceptsKind(d.kind) {
		return "" // most of a spec's values (bool, a comment): no memo needed
	}
	if d.kind == kindString {
		if alt := n.textAlt(); alt != nil {
			return alt.matchText(d) // names: the pattern is cheaper than the memo
		}
	}
	memoise = memoise && len(d.scalar()) <= maxMemoValue
	var key memoKey
	if memoise {
		key = memoKey{d.kind, d.scalar()} // no allocation per lookup
		if msg, ok := n.memo[key]; ok {
			return msg
		}
	}
	msg := n.checkScalarUncached(d)
	if memoise && len(n.memo) < maxMemo {
		if n.memo == nil {
			n.memo = map[memoKey]string{}
		}
		n.memo[key] = msg
	}
	return msg
}

// acceptsKind reports whether every scalar of kind k is valid for this
// constraint (bool, string, int): its alternative for k subsumes k's top.
func (n *snode) acceptsKind(k kind) bool {
	if n.whole[k] == 0 {
		n.whole[k] = -1
		if alt := n.view(k); alt != nil {
			if top, has := n.s.tops[k]; has && alt.v.Subsume(top) == nil {
				n.whole[k] = 1
			}
		}
	}
	return n.whole[k] > 0
}

func (n *snode) checkScalarUncached(d *node) string {
	if d.kind == kindString {
		if alt := n.textAlt(); alt != nil {
			return alt.matchText(d)
		}
	}
	val := n.s.encode(d)
	if err := n.v.Unify(val).Validate(cue.Concrete(true)); err == nil {
		return ""
	}
	if lits := n.literals(); lits != nil {
		return fmt.Sprintf("invalid value %s (must be one of %s)", d.describe(), strings.Join(lits, ", "))
	}
	// Ask the alternative of the data's kind, whose message is specific.
	target := n.v
	if alt := n.view(d.kind); alt != nil {
		target = alt.v
	}
	err := target.Unify(val).Validate(cue.Concrete(true))
	if err == nil {
		err = n.v.Unify(val).Validate(cue.Concrete(true))
	}
	errs := cueerrors.Errors(err)
	if len(errs) == 0 {
		return fmt.Sprintf("invalid value %s", d.describe())
	}
	format, args := errs[0].Msg()
	return fmt.Sprintf(format, args...)
}

// textAlt is the alternative of n for strings when that is exactly
// =~"pattern", else nil: a string's verdict is then the pattern's alone.
func (n *snode) textAlt() *snode {
	if !n.textSet {
		n.textSet = true
		if alt := n.view(kindString); alt != nil && alt.regexp() != nil {
			n.text = alt
		}
	}
	return n.text
}

// matchText is the verdict of the pattern (textAlt) on the string d.
func (n *snode) matchText(d *node) string {
	if n.re.match(d.scalar()) {
		return ""
	}
	return fmt.Sprintf("invalid value %q (does not match %s)", d.scalar(), n.re.re)
}

// regexp returns the Go form of the constraint when it is exactly
// =~"pattern" (CUE and Go share RE2 semantics), else nil.
func (n *snode) regexp() *textMatcher {
	if n.reSet {
		return n.re
	}
	n.reSet = true
	op, args := cue.Dereference(n.v).Expr()
	if op != cue.RegexMatchOp || len(args) != 1 {
		return nil
	}
	pat, err := args[0].String()
	if err != nil {
		return nil
	}
	if re, err := regexp.Compile(pat); err == nil {
		n.re = newTextMatcher(re)
	}
	return n.re
}

// literals lists the allowed values when the constraint is an enumeration.
func (n *snode) literals() []string {
	var out []string
	for _, a := range n.alts {
		if a.Kind() == cue.NullKind {
			continue
		}
		if !a.IsConcrete() || a.Kind() == cue.StructKind || a.Kind() == cue.ListKind {
			return nil
		}
		b, _ := a.MarshalJSON()
		out = append(out, string(b))
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

func (s *Schema) encode(d *node) cue.Value {
	switch d.kind {
	case kindNull:
		return s.ctx.Encode(nil)
	case kindBool:
		return s.ctx.Encode(d.scalar() == "true")
	case kindInt:
		i, err := strconv.ParseInt(d.scalar(), 10, 64)
		if err != nil {
			return s.ctx.CompileString(d.scalar())
		}
		return s.ctx.Encode(i)
	case kindFloat:
		return s.ctx.CompileString(d.scalar())
	}
	return s.ctx.Encode(d.scalar())
}

func kindNames(k cue.Kind) string {
	var names []string
	for _, c := range []struct {
		k    cue.Kind
		name string
	}{{cue.StructKind, "struct"}, {cue.ListKind, "list"}, {cue.StringKind, "string"}, {cue.IntKind, "int"},
		{cue.FloatKind, "float"}, {cue.BoolKind, "bool"}, {cue.NullKind, "null"}} {
		if k&c.k != 0 {
			names = append(names, c.name)
		}
	}
	if k&cue.NumberKind == cue.NumberKind {
		names = slices.DeleteFunc(names, func(s string) bool { return s == "int" || s == "float" })
		names = append(names, "number")
	}
	return strings.Join(names, " or ")
}

// suggest proposes the closest known field name for a misspelt one.
func suggest(key string, fields map[string]*sfield) string {
	best, bestD := "", 3
	for name := range fields {
		if d := editDistance(key, name); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
