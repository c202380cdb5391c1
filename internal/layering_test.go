// Package internal_test holds the layering test: the import graph of
// pgreconciler's packages, as STYLE.md and each package's doc.go describe
// it, checked against `go list`.
package internal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/pgreconciler/pgreconciler/"

// allowedImports is the layering: for every package of the module (by its
// path below the module; a package's subpackages count as the package),
// the packages of the module its non-test files may import. model and plan
// are the vocabulary everyone speaks; hba, pgconf, privs and scram are
// pure helpers (text in, values out).
//
//	cmd ──▶ daemon ──▶ reconcile ──▶ inspect, diff, apply, dbconn
//	          │                          (diff: pure; apply may re-read
//	          └──▶ source, spec, drift,   what inspect reads)
//	               config
//
// A package missing here, or an import missing from its list, fails the
// test: a new arrow is a decision, to be made here with its reason.
func allowedImports() map[string][]string {
	vocabulary := []string{"internal/model", "internal/plan"}
	with := func(pkgs ...string) []string { return append(pkgs, vocabulary...) }
	return map[string][]string{
		// cmd: flags → config → wiring. The daemon and reconcile do the
		// work; apply only for the HBA writers the flags pick, dbconn for
		// the libpq environment, hba and scram for render and passwd.
		// audit for `reconciler audit`, pgbouncer for `render pgbouncer`.
		"cmd/reconciler": with("internal/daemon", "internal/reconcile", "internal/config", "internal/preflight",
			"internal/source", "internal/spec", "internal/apply", "internal/dbconn", "internal/hba", "internal/scram",
			"internal/audit", "internal/pgbouncer"),
		// The daemon: sources, scheduling, status. Clusters are reconciled
		// through reconcile only; apply for the configured HBA writer and
		// the change log's last applied commit (the rewind floor), dbconn
		// for the configured connections, audit for the periodic compliance
		// audit (read-only: it judges what the servers enforce).
		"internal/daemon": with("internal/reconcile", "internal/source", "internal/spec", "internal/drift",
			"internal/config", "internal/apply", "internal/dbconn", "internal/audit"),
		// One cluster: topology, lock, inspect, diff, guard, apply, re-plan;
		// patroni for the leader, reloads and Patroni's own state.
		"internal/reconcile": with("internal/inspect", "internal/diff", "internal/apply", "internal/dbconn", "internal/patroni"),
		// apply re-reads a setting as inspect reads it (the read-back).
		// pgbouncer: the pooler's files rendered again when they are written, and its lockout guard.
		"internal/apply":   with("internal/inspect", "internal/dbconn", "internal/hba", "internal/pgconf", "internal/scram", "internal/protect", "internal/pgbouncer"),
		"internal/inspect": with("internal/pgconf"),
		"internal/diff":    with("internal/hba", "internal/pgconf", "internal/privs", "internal/scram", "internal/protect", "internal/pgbouncer"),
		// The protection policy, defined once: diff reports and apply refuses
		// with the same functions, on the changes\' intent.
		"internal/protect": with(),
		"internal/drift":   with(),
		"internal/source":  with(),
		"internal/spec":    with("schema", "internal/hba", "internal/privs", "internal/scram", "internal/pgbouncer"),
		// The audit reads live servers on its own (its SQL, a TLS
		// handshake), judges with hba and pgconf, re-verifies commits
		// with source, reads Patroni's REST API with patroni (GETs and the
		// probe that changes nothing); it never writes.
		"internal/audit": with("internal/inspect", "internal/hba", "internal/pgconf", "internal/source", "internal/patroni"),
		// Pure: PgBouncer's files rendered and compared, its lockout guard.
		"internal/pgbouncer": with("internal/hba", "internal/scram"),
		// Patroni's REST API and the pure topology.
		"internal/patroni":   with(),
		"internal/preflight": with("internal/config", "internal/source"),
		"internal/config":    {"internal/model"}, // the drift class and its labels
		"internal/dbconn":    {"internal/model"},
		"internal/plan":      {"internal/model", "internal/pgconf"}, // changes render their SQL (literals, parameter values)
		"internal/model":     nil,
		"internal/hba":       {"internal/model"},
		"internal/pgconf":    {"internal/model"},
		"internal/scram":     {"internal/model"},
		"internal/privs":     nil,
		"schema":             nil,
		// This test, and the harnesses: real servers for tests and the demo.
		"internal":                 nil,
		"internal/demo":            {"internal/testenv"},
		"scripts/demo":             {"internal/demo"},
		"scripts/demo-ha":          {"internal/testenv"}, // make demo-ha: a Patroni cluster of patronienv
		"scripts/bench":            {"internal/testenv"}, // the whole-process benchmark: runs bin/reconciler, imports none of it
		"internal/deploytest":      nil,
		"internal/chaos":           nil, // the fault suite: tests only
		"internal/testenv":         {"internal/testenv/sockdir"},
		"internal/testenv/sockdir": nil,
		"internal/testenv/gitenv":  {"internal/testenv/sockdir"},
		"internal/testenv/sshd":    {"internal/testenv"},
	}
}

// neverImports are STYLE.md's imports that must never exist, directly or
// not: the diff is pure, the model imports nothing of ours, validation
// happens before any connection and never writes, inspection never writes,
// the source never applies, drift and apply read the Plan without each
// other, the per-cluster pipeline knows nothing of sources or schedules,
// and only the harnesses reach the test servers. (Nothing can import cmd/:
// Go refuses to import a main package.)
func neverImports() map[string][]string {
	return map[string][]string{
		"internal/diff":      {"internal/inspect", "internal/apply", "internal/source", "internal/dbconn", "internal/reconcile", "internal/daemon"},
		"internal/model":     {"internal/"},
		"internal/spec":      {"internal/inspect", "internal/apply", "internal/dbconn", "internal/source"},
		"internal/inspect":   {"internal/apply"},
		"internal/source":    {"internal/apply"},
		"internal/drift":     {"internal/apply", "internal/inspect"},
		"internal/apply":     {"internal/drift"},
		"internal/audit":     {"internal/apply", "internal/diff", "internal/reconcile", "internal/daemon"},
		"internal/pgbouncer": {"internal/inspect", "internal/apply", "internal/dbconn", "internal/source", "internal/spec", "internal/diff", "internal/drift", "internal/reconcile"},
		"internal/reconcile": {"internal/daemon", "internal/source", "internal/spec", "internal/drift", "internal/config"},
		"internal/daemon":    {"internal/testenv"},
		"cmd/reconciler":     {"internal/testenv"},
	}
}

// ioPackages are what a pure package must not import: files, processes,
// the network, databases, a context to cancel.
func ioPackages() []string {
	return []string{"os", "os/exec", "io/fs", "net/http", "database/sql", "context", "syscall", "log",
		"github.com/jackc/pgx/v5/pgconn", "github.com/prometheus/client_golang/prometheus"}
}

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

// packages lists the module's packages with `go list`.
func packages(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Dir,GoFiles,Imports,Deps", "./...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	all := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		rel, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok {
			t.Fatalf("go list: %s is not in the module", p.ImportPath)
		}
		all[rel] = &p
	}
	if len(all) < 10 {
		t.Fatalf("go list found %d packages: the test would prove nothing", len(all))
	}
	return all
}

// layer is the entry of allowedImports a package belongs to: its own, or
// that of the nearest parent listed.
func layer(rel string, allowed map[string][]string) (string, bool) {
	for p := rel; p != "." && p != ""; p = filepath.Dir(p) {
		if _, ok := allowed[p]; ok {
			return p, true
		}
	}
	return "", false
}

// TestLayering holds every package of the module to its allowed arrows
// and to the imports that must never exist.
func TestLayering(t *testing.T) {
	all := packages(t)
	allowed := allowedImports()
	var names []string
	for rel := range all {
		names = append(names, rel)
	}
	sort.Strings(names)
	for _, rel := range names {
		p := all[rel]
		from, ok := layer(rel, allowed)
		if !ok {
			t.Errorf("%s is in no layer: add it to allowedImports, with what it may import", rel)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			to, ok := layer(dep, allowed)
			if !ok || to == from {
				continue // a package in no layer is reported above; a package may use its own subpackages
			}
			if !slices.Contains(allowed[from], to) {
				t.Errorf("%s imports %s: %s → %s is not an allowed arrow", rel, dep, from, to)
			}
		}
		for never, bad := range neverImports() {
			if l, _ := layer(rel, allowed); l != never {
				continue
			}
			for _, d := range p.Deps {
				dep, ours := strings.CutPrefix(d, module)
				if !ours {
					continue
				}
				for _, b := range bad {
					if strings.HasPrefix(dep, b) && dep != rel && !strings.HasPrefix(dep, rel+"/") {
						t.Errorf("%s must never import %s, directly or not", rel, dep)
					}
				}
			}
		}
	}
}

// TestDiffIsPure: the diff, and every package of ours it imports, import
// no I/O package; the diff itself takes no logger and reads no clock (the
// time is an input).
func TestDiffIsPure(t *testing.T) {
	all := packages(t)
	diff := all["internal/diff"]
	if diff == nil {
		t.Fatal("no internal/diff")
	}
	pure := []string{"internal/diff"}
	for _, d := range diff.Deps {
		if rel, ours := strings.CutPrefix(d, module); ours {
			pure = append(pure, rel)
		}
	}
	for _, rel := range pure {
		for _, imp := range all[rel].Imports {
			if slices.Contains(ioPackages(), imp) || (rel == "internal/diff" && imp == "log/slog") {
				t.Errorf("%s imports %s: the diff must stay a function of values", rel, imp)
			}
		}
	}
	fset := token.NewFileSet()
	for _, name := range diff.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(diff.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" && slices.Contains([]string{"Now", "Since", "Until"}, sel.Sel.Name) {
				t.Errorf("%s: time.%s: the diff reads no clock; the time is an input", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
