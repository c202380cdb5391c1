package spec

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unique"

	"go.yaml.in/yaml/v3"
)

// yaml11Bool are the plain scalars PyYAML (and so Ansible, and so Pigsty)
// reads as booleans under YAML 1.1; yaml.v3 follows YAML 1.2 and would
// read "yes" or "on" as strings.
var yaml11Bool = map[string]string{
	"yes": "true", "Yes": "true", "YES": "true", "no": "false", "No": "false", "NO": "false",
	"true": "true", "True": "true", "TRUE": "true", "false": "false", "False": "false", "FALSE": "false",
	"on": "true", "On": "true", "ON": "true", "off": "false", "Off": "false", "OFF": "false",
}

// isInventoryYAML reports whether a YAML file looks like an Ansible
// inventory (a top-level "all:" key). Other YAML files in a spec
// repository (CI configs, docs) are not specs.
func isInventoryYAML(data []byte) bool {
	return inventoryTop.Match(data)
}

var inventoryTop = regexp.MustCompile(`(?m)^all\s*:`)

// readYAML parses an inventory file into a data tree (fastYAML when it can,
// else yaml.v3), charging m for
// yaml.v3's tree while it exists and for the data tree (every alias
// expanded) it becomes. When the budget runs out, the tree is incomplete
// and m.out is set.
func readYAML(file string, data []byte, m *meter) (*node, Problems) {
	if root, ok := fastYAML(file, data, m); ok || m.spent() {
		if !ok {
			return nil, nil
		}
		return root, nil
	}
	return readYAMLSlow(file, data, m)
}

// readYAMLSlow is readYAML through yaml.v3's node tree: every file the
// fast reader gives up on.
func readYAMLSlow(file string, data []byte, m *meter) (*node, Problems) {
	if !m.reserve(yamlNodes(data) * yamlNodeCost) {
		return nil, nil
	}
	defer m.release()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, Problems{yamlError(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Problems{{Pos: Pos{File: file, Line: int32(extra.Line), Col: int32(extra.Column)}, Rule: RuleSyntax,
			Message: "a spec file must hold one YAML document"}}
	}
	r := yamlReader{file: file, m: m}
	root := r.convert(&doc, 0, false)
	if m.spent() {
		return nil, nil
	}
	return root, r.problems
}

type yamlReader struct {
	file     string
	handle   unique.Handle[string] // file's, made on first use
	m        *meter
	problems Problems
}

func (r *yamlReader) pos(n *yaml.Node) Pos {
	return Pos{File: r.file, Line: int32(n.Line), Col: int32(n.Column)}
}

func (r *yamlReader) at(n *yaml.Node) place {
	var zero unique.Handle[string]
	if r.handle == zero {
		r.handle = unique.Make(r.file)
	}
	return place{file: r.handle, line: int32(n.Line), col: int32(n.Column)}
}

func (r *yamlReader) fail(n *yaml.Node, format string, args ...any) *node {
	r.problems = append(r.problems, Problem{Pos: r.pos(n), Rule: RuleSyntax, Message: fmt.Sprintf(format, args...)})
	return newNode(kindNull, r.at(n))
}

// convert builds the data tree of n. Once converted, a node that no alias
// can reach again (outside any anchored subtree) drops its children, so
// that yaml.v3's tree shrinks while the data tree grows.
func (r *yamlReader) convert(n *yaml.Node, depth int, anchored bool) *node {
	if !r.m.charge(nodeCost) {
		return newNode(kindNull, place{})
	}
	if depth > 100 {
		return r.fail(n, "values nested more than 100 levels deep")
	}
	anchored = anchored || n.Anchor != ""
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return newNode(kindMap, r.at(n))
		}
		return r.convert(n.Content[0], depth, anchored)
	case yaml.AliasNode:
		return r.convert(n.Alias, depth+1, true)
	case yaml.SequenceNode:
		r.m.charge(itemCost * int64(len(n.Content)))
		items := make([]*node, 0, len(n.Content))
		for _, c := range n.Content {
			items = append(items, r.convert(c, depth+1, anchored))
		}
		out := newList(r.at(n), items)
		if !anchored {
			n.Content = nil
		}
		return out
	case yaml.MappingNode:
		out := r.mapping(n, depth, anchored)
		if !anchored {
			n.Content = nil
		}
		return out
	case yaml.ScalarNode:
		r.m.charge(int64(len(n.Value)))
		return r.scalar(n)
	}
	return r.fail(n, "unsupported YAML node")
}

func (r *yamlReader) mapping(n *yaml.Node, depth int, anchored bool) *node {
	r.m.charge(fieldCost * int64(len(n.Content)/2))
	fields := make([]field, 0, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.fail(k, "a mapping key must be a scalar")
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if fieldIndex(fields, k.Value) >= 0 {
			r.fail(k, "duplicate key %q", k.Value)
			continue
		}
		r.m.charge(int64(len(k.Value)))
		fields = append(fields, newField(k.Value, r.at(k), r.convert(v, depth+1, anchored)))
	}
	// YAML merge keys (<<: *defaults), which Ansible honours: keys of the
	// mapping itself win, earlier merged mappings win over later ones.
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			mv := r.convert(s, depth+1, true)
			if mv.kind != kindMap {
				r.fail(s, "a merge key (<<) must refer to a mapping")
				continue
			}
			for _, f := range mv.fields() {
				if fieldIndex(fields, f.key) < 0 {
					r.m.charge(fieldCost)
					fields = append(fields, f)
				}
			}
		}
	}
	return newMap(r.at(n), fields)
}

func (r *yamlReader) scalar(n *yaml.Node) *node {
	out := newScalar(kindString, n.Value, r.at(n))
	// yaml.v3 gives a plain scalar its resolved tag (!!str for "yes"):
	// only an explicit !!str makes a string of what PyYAML reads as a
	// boolean.
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 || (n.Tag == "!!str" && n.Style&yaml.TaggedStyle != 0) {
		out.kind = kindString
		return out
	}
	if b, ok := yaml11Bool[n.Value]; ok {
		out.kind = kindBool
		out.setScalar(b)
		return out
	}
	switch n.Tag {
	case "!!null":
		out.kind = kindNull
		out.setScalar("")
	case "!!bool":
		out.kind = kindBool
		out.setScalar(strings.ToLower(n.Value))
	case "!!int":
		v, err := strconv.ParseInt(n.Value, 0, 64)
		switch {
		// The scalar is not shown: it may be a password.
		case errors.Is(err, strconv.ErrRange):
			return r.fail(n, "invalid integer: out of the 64-bit range")
		case err != nil:
			return r.fail(n, "invalid integer")
		}
		out.kind = kindInt
		out.setScalar(strconv.FormatInt(v, 10))
	case "!!float":
		out.kind = kindFloat
	default:
		out.kind = kindString
	}
	return out
}
