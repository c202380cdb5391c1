package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"go.yaml.in/yaml/v3"
)

// Pos is where a key is written: file:line:col, or a bare name (a
// command-line flag, or the file when the key is not written in it).
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one thing wrong with a configuration, at the key it is about.
type Problem struct {
	Pos     Pos
	Key     string // "sources[0].auth.ssh_key"; "" for the file as a whole
	Message string
	Warning bool // reported; does not refuse the configuration
}

func (p *Problem) Error() string {
	var b strings.Builder
	if s := p.Pos.String(); s != "" {
		b.WriteString(s + ": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in one check.
type Problems []*Problem

// Errors counts the problems that refuse the configuration.
func (ps Problems) Errors() int {
	n := 0
	for _, p := range ps {
		if !p.Warning {
			n++
		}
	}
	return n
}

// Sort orders the problems by file, line and column (stable: problems at
// one place keep their order).
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// Err joins the problems that refuse the configuration, one per line, or
// returns nil when there is none.
func (ps Problems) Err() error {
	var errs []error
	for _, p := range ps {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// At says where key is written: its own position, else that of the nearest
// enclosing key that is written, else the file.
func (c *Config) At(key string) Pos {
	for k := key; k != ""; k = parentKey(k) {
		if p, ok := c.pos[k]; ok {
			return p
		}
	}
	return Pos{File: c.file}
}

// SetPos records where key comes from, for a configuration not read from
// a file (command-line flags).
func (c *Config) SetPos(key string, p Pos) {
	if c.pos == nil {
		c.pos = map[string]Pos{}
	}
	c.pos[key] = p
}

// Written reports whether key is set in the file (or by a flag) rather
// than left to its default.
func (c *Config) Written(key string) bool {
	_, ok := c.pos[key]
	return ok
}

// Problem returns a problem about key, at its position.
func (c *Config) Problem(key, format string, args ...any) *Problem {
	return &Problem{Pos: c.At(key), Key: key, Message: fmt.Sprintf(format, args...)}
}

// Warning returns a warning about key, at its position.
func (c *Config) Warning(key, format string, args ...any) *Problem {
	p := c.Problem(key, format, args...)
	p.Warning = true
	return p
}

// problemOf turns a message of Check, which starts with the key it is
// about ("sources[0].url: …"), into a Problem at that key.
func (c *Config) problemOf(msg string) *Problem {
	key, rest, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(key, " \"") {
		return &Problem{Pos: Pos{File: c.file}, Message: msg}
	}
	return &Problem{Pos: c.At(key), Key: key, Message: rest}
}

// parentKey drops the last element of a key path: "a.b[0]" → "a.b",
// "a.b" → "a", "a" → "".
func parentKey(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

// yamlPositions records the position of every key of a YAML document:
// the value's for a scalar, the key's for a mapping or a list.
func yamlPositions(file string, data []byte) map[string]Pos {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	out := map[string]Pos{}
	var walk func(n *yaml.Node, key string, at *yaml.Node)
	walk = func(n *yaml.Node, key string, at *yaml.Node) {
		if key != "" {
			p := n
			if n.Kind != yaml.ScalarNode {
				p = at
			}
			out[key] = Pos{File: file, Line: p.Line, Col: p.Column}
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinKey(key, n.Content[i].Value), n.Content[i])
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(item, key+"["+strconv.Itoa(i)+"]", item)
			}
		case yaml.AliasNode:
			walk(n.Alias, key, at)
		}
	}
	walk(doc.Content[0], "", doc.Content[0])
	return out
}

// cuePositions records the position of every regular field of a CUE value.
func cuePositions(file string, v cue.Value) map[string]Pos {
	out := map[string]Pos{}
	var walk func(v cue.Value, key string)
	walk = func(v cue.Value, key string) {
		if key != "" {
			p := v.Pos() // the field's label
			if f, ok := v.Source().(*ast.Field); ok && v.IncompleteKind()&(cue.StructKind|cue.ListKind) == 0 {
				p = f.Value.Pos() // a scalar's value, as for YAML
			}
			if p.IsValid() {
				out[key] = Pos{File: file, Line: p.Line(), Col: p.Column()}
			}
		}
		switch v.IncompleteKind() {
		case cue.StructKind:
			it, err := v.Fields()
			if err != nil {
				return
			}
			for it.Next() {
				walk(it.Value(), joinKey(key, it.Selector().Unquoted()))
			}
		case cue.ListKind:
			it, err := v.List()
			if err != nil {
				return
			}
			for i := 0; it.Next(); i++ {
				walk(it.Value(), key+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(v, "")
	return out
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}
