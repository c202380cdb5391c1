package spec

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Policy rules about the parameters each instance will run with.

// checkPasswordComplexity judges the shared_preload_libraries each
// instance will run with: pg_libs, unless pg_parameters sets it, which wins.
func checkPasswordComplexity(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			libs, _ := paramValue(in, "shared_preload_libraries")
			ok := false
			for _, l := range strings.Split(libs, ",") {
				l = strings.Trim(strings.TrimSpace(l), `"`)
				l = strings.TrimPrefix(l, "$libdir/")
				ok = ok || l == "passwordcheck" || l == "credcheck"
			}
			if ok {
				continue
			}
			p, _ := cs.varPos("pg_libs")
			if v := cs.params[in].get("shared_preload_libraries"); v != nil {
				p = cs.at(v.pos())
			}
			report(p, fmt.Sprintf("cluster %s: shared_preload_libraries (pg_libs) loads neither passwordcheck nor credcheck", cs.c.Name))
			break
		}
	}
}

func (cs *clusterSrc) paramPos(in *model.Instance, name string) Pos {
	if v := cs.params[in].get(name); v != nil {
		return v.pos()
	}
	if m := cs.params[in]; m != nil {
		return m.pos()
	}
	return cs.hosts[in].pos
}

func paramValue(in *model.Instance, name string) (string, bool) {
	for _, p := range in.Parameters {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func checkLogConnections(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			v, ok := paramValue(in, "log_connections")
			if !ok || !(truthy(v) || connectionAspects(v)) {
				report(cs.at(cs.paramPos(in, "log_connections")), fmt.Sprintf("instance %s: log_connections is not on", in.Name()))
			}
		}
	}
}

func checkLogStatement(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, in := range cs.c.Instances {
			v, _ := paramValue(in, "log_statement")
			switch strings.ToLower(v) {
			case "ddl", "mod", "all":
			default:
				report(cs.at(cs.paramPos(in, "log_statement")), fmt.Sprintf("instance %s: log_statement is %q; use at least ddl", in.Name(), v))
			}
		}
	}
}

// connectionAspects reports whether v is PostgreSQL 18's list form of
// log_connections ("receipt,authentication,authorization", "all") naming
// at least one aspect of a connection.
func connectionAspects(v string) bool {
	for _, a := range strings.Split(strings.ToLower(v), ",") {
		switch strings.TrimSpace(a) {
		case "all", "receipt", "authentication", "authorization":
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}
