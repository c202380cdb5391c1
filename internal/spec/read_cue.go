package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unique"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// cueFile is a parsed .cue file of the spec repository.
type cueFile struct {
	name    string
	src     []byte
	ast     *ast.File // nil when the fast reader did the work
	pkgName string
	data    *node // the file's value when it is plain data, else nil
}

// parseCUE reads one file. When it is plain data (struct and list
// literals, scalars; no references, definitions, comprehensions or
// constraints) it becomes a data tree without the CUE evaluator: plain
// data evaluates to itself, so the tree is exactly what CUE would compute.
// Anything else is left to the evaluator.
//
// m is charged for the data tree and, while it exists, for cue/parser's
// syntax tree; when the budget runs out, nil is returned and m.out is set.
func parseCUE(name string, src []byte, m *meter) (*cueFile, Problems) {
	if pkg, root, ok := fastPlainCUE(name, src, m); ok || m.spent() {
		if m.spent() {
			return nil, nil
		}
		return &cueFile{name: name, src: src, pkgName: pkg, data: root}, nil
	}
	if !m.reserve(int64(len(src)) * cueSyntaxPerByte) {
		return nil, nil
	}
	defer m.release()
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		return nil, cueProblems(err, RuleSyntax)
	}
	cf := &cueFile{name: name, src: src, ast: f, pkgName: f.PackageName()}
	cf.data = plainTree(name, f, m)
	if m.spent() {
		return nil, nil
	}
	return cf, nil
}

// cueSyntaxPerByte is what cue/parser's syntax tree costs per byte of
// source, from above (about 20 for hand-written specs).
const cueSyntaxPerByte = 40

// plainTree converts a parsed file that is plain data, or returns nil.
func plainTree(name string, f *ast.File, m *meter) *node {
	p := plainReader{file: name, m: m}
	mark := m.mark()
	if root, ok := p.decls(f.Decls, f.Pos()); ok {
		root.setPos(Pos{File: name, Line: 1, Col: 1})
		return root
	}
	m.undo(mark) // the evaluator's tree is charged when it is exported
	return nil
}

func (f *cueFile) pkg() string { return f.pkgName }

// syntax returns the file's syntax tree, parsing it if the fast reader
// read it.
func (f *cueFile) syntax() (*ast.File, error) {
	if f.ast == nil {
		a, err := parser.ParseFile(f.name, f.src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		f.ast = a
	}
	return f.ast, nil
}

type plainReader struct {
	file   string
	handle unique.Handle[string] // file's, made on first use
	m      *meter
}

var (
	plainInt   = regexp.MustCompile(`^[0-9]+$`)
	plainFloat = regexp.MustCompile(`^[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$`)
)

func (p *plainReader) pos(n ast.Node) place { return p.at(n.Pos()) }

func (p *plainReader) at(tp token.Pos) place {
	var zero unique.Handle[string]
	if p.handle == zero {
		p.handle = unique.Make(p.file)
	}
	return place{file: p.handle, line: int32(tp.Line()), col: int32(tp.Column())}
}

// decls converts the declarations of a file or struct literal.
func (p *plainReader) decls(decls []ast.Decl, at token.Pos) (*node, bool) {
	var fields []field
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
			continue
		case *ast.Field:
			if d.Constraint != token.ILLEGAL {
				return nil, false
			}
			key, ok := p.label(d.Label)
			if !ok {
				return nil, false
			}
			v, ok := p.expr(d.Value)
			if !ok {
				return nil, false
			}
			if i := fieldIndex(fields, key); i >= 0 {
				// a: {x: 1} and a: {y: 2} in one file unify as in CUE.
				merged, ok := p.unifyPlain(fields[i].value, v)
				if !ok {
					return nil, false
				}
				fields[i].value = merged
				continue
			}
			fields = append(fields, newField(key, p.pos(d.Label), v))
		default:
			return nil, false
		}
	}
	return newMap(p.at(at), fields), true
}

// unifyPlain merges two plain values; anything but map+map or equal values
// is left to the evaluator, which reports conflicts its own way.
func (p *plainReader) unifyPlain(a, b *node) (*node, bool) {
	ok := true
	n := unify(a, b, "", func(Problem) { ok = false })
	return n, ok
}

func (p *plainReader) label(l ast.Label) (string, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		if strings.HasPrefix(l.Name, "#") || strings.HasPrefix(l.Name, "_") {
			return "", false
		}
		return l.Name, true
	case *ast.BasicLit:
		if l.Kind != token.STRING {
			return "", false
		}
		s, err := literal.Unquote(l.Value)
		return s, err == nil
	}
	return "", false
}

func (p *plainReader) expr(e ast.Expr) (*node, bool) {
	if !p.m.charge(nodeCost + fieldCost) {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.StructLit:
		return p.decls(e.Elts, e.Pos())
	case *ast.ListLit:
		items := make([]*node, 0, len(e.Elts))
		for _, el := range e.Elts {
			v, ok := p.expr(el)
			if !ok {
				return nil, false
			}
			items = append(items, v)
		}
		return newList(p.pos(e), items), true
	case *ast.BasicLit:
		return p.basic(e, "")
	case *ast.UnaryExpr:
		if b, ok := e.X.(*ast.BasicLit); ok && e.Op == token.SUB && (b.Kind == token.INT || b.Kind == token.FLOAT) {
			n, ok := p.basic(b, "-")
			if ok {
				n.setAt(p.pos(e))
			}
			return n, ok
		}
	case *ast.ParenExpr:
		return p.expr(e.X)
	}
	return nil, false
}

func (p *plainReader) basic(b *ast.BasicLit, sign string) (*node, bool) {
	n := newNode(kindNull, p.pos(b))
	switch b.Kind {
	case token.STRING:
		if strings.HasPrefix(b.Value, "'") || strings.HasPrefix(b.Value, "#") {
			return nil, false // bytes and raw strings: let CUE decide
		}
		s, err := literal.Unquote(b.Value)
		if err != nil {
			return nil, false
		}
		n.kind = kindString
		n.setScalar(s)
	case token.INT:
		if !plainInt.MatchString(b.Value) {
			return nil, false // 0x10, 1_000, 1Ki …
		}
		n.kind = kindInt
		if digits := strings.TrimLeft(b.Value, "0"); digits != "" {
			n.setScalar(sign + digits)
		} else {
			n.setScalar("0")
		}
	case token.FLOAT:
		if !plainFloat.MatchString(b.Value) {
			return nil, false
		}
		n.kind = kindFloat
		n.setScalar(sign + b.Value)
	case token.TRUE, token.FALSE:
		n.kind = kindBool
		n.setScalar(b.Value)
	case token.NULL:
		n.kind = kindNull
	default:
		return nil, false
	}
	return n, true
}

// evalCUE evaluates all .cue files of the repository as one CUE package
// (the path for files that are not plain data: references, comprehensions,
// hidden fields …) and exports the result as a data tree.
func evalCUE(files []*cueFile, m *meter) (*node, Problems) {
	inst := build.NewContext().NewInstance("spec", nil)
	for _, f := range files {
		a, err := f.syntax()
		if err != nil {
			return nil, cueProblems(err, RuleSyntax)
		}
		if err := inst.AddSyntax(a); err != nil {
			return nil, cueProblems(err, RuleSyntax)
		}
	}
	v := cuecontext.New().BuildInstance(inst)
	if err := v.Err(); err != nil {
		return nil, cueProblems(err, RuleSchema)
	}
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return nil, cueProblems(err, RuleSchema)
	}
	out := exportValue(v, 0, m)
	if m.spent() {
		return nil, nil
	}
	return out, nil
}

// exportValue converts an evaluated, concrete CUE value into a data tree,
// keeping each value's position.
func exportValue(v cue.Value, depth int, m *meter) *node {
	n := newNode(kindNull, placeOf(cuePos(v.Pos())))
	if !m.charge(nodeCost + fieldCost) {
		return n
	}
	switch v.Kind() {
	case cue.StructKind:
		n.kind = kindMap
		it, _ := v.Fields()
		var fields []field
		for it.Next() {
			fv := it.Value()
			fields = append(fields, newField(it.Selector().Unquoted(), placeOf(cuePos(fv.Pos())), exportValue(fv, depth+1, m)))
		}
		n.setFields(fields)
	case cue.ListKind:
		n.kind = kindList
		it, _ := v.List()
		var items []*node
		for it.Next() {
			items = append(items, exportValue(it.Value(), depth+1, m))
		}
		n.setItems(items)
	case cue.StringKind:
		n.kind = kindString
		s, _ := v.String()
		n.setScalar(s)
		m.charge(int64(len(s)))
	case cue.BoolKind:
		b, _ := v.Bool()
		n.kind = kindBool
		n.setScalar(fmt.Sprint(b))
	case cue.IntKind:
		// Exact, not clamped to 64 bits: the schema judges the value as is.
		i, _ := v.Int(nil)
		n.kind = kindInt
		n.setScalar(i.String())
	case cue.FloatKind:
		f, _ := v.Float64()
		n.kind = kindFloat
		n.setScalar(fmt.Sprint(f))
	default:
		n.kind = kindNull
	}
	return n
}

func cuePos(p token.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	return Pos{File: p.Filename(), Line: int32(p.Line()), Col: int32(p.Column())}
}

// cueProblems converts CUE errors into Problems, at the first position
// that lies in the spec repository rather than in the schema; the others
// are listed in the message.
//
// The values in a CUE message are never shown, whatever the path: a
// password may come from a hidden field, a definition or any other field
// by reference, and the path of the error is then that field's. Kinds and
// operators are kept (see redactArgs).
func cueProblems(err error, rule string) Problems {
	var out Problems
	for _, e := range cueerrors.Errors(err) {
		var pos Pos
		var also []string
		for _, p := range cueerrors.Positions(e) {
			cp := cuePos(p)
			switch {
			case cp.File == "" || strings.HasPrefix(cp.File, schemaPrefix) || cp == pos:
			case pos.File == "":
				pos = cp
			case !slices.Contains(also, cp.String()):
				also = append(also, cp.String())
			}
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, redactArgs(args)...)
		if path := e.Path(); len(path) > 0 {
			msg = strings.Join(path, ".") + ": " + msg
		}
		if len(also) > 0 {
			msg += " (also at " + strings.Join(also, ", ") + ")"
		}
		out = append(out, Problem{Pos: pos, Rule: rule, Message: msg})
	}
	return out
}
