package drift

// Checks of deploy/ and the example configurations: the alert rules and the
// Grafana dashboard name only metrics this package records, promtool
// accepts and passes the rules, and the manifests and configs parse and keep
// their security settings. The systemd unit has its own tests, which run it:
// internal/deploytest.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorded maps every series name a fully populated Recorder exposes
// (histograms as _bucket, _sum and _count too) to its family.
func recorded(t *testing.T) map[string]string {
	t.Helper()
	mfs, err := populated(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, mf := range mfs {
		n := mf.GetName()
		if !strings.HasPrefix(n, namespace+"_") {
			continue
		}
		names[n] = n
		if mf.GetType().String() == "HISTOGRAM" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[n+s] = n
			}
		}
	}
	return names
}

var metricName = regexp.MustCompile(`pgreconciler_[a-z_]+`)

// checkNames fails for every pgreconciler metric in text that is not
// recorded, and returns the families text uses.
func checkNames(t *testing.T, where, text string, known map[string]string) map[string]bool {
	t.Helper()
	used := map[string]bool{}
	for _, n := range metricName.FindAllString(text, -1) {
		fam, ok := known[n]
		if !ok {
			t.Errorf("%s: metric %s is not recorded by internal/drift", where, n)
			continue
		}
		used[fam] = true
	}
	return used
}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			For         string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

func TestAlertRules(t *testing.T) {
	promtool(t, nil, "check", "rules", filepath.Join(testenv.RepoRoot(t), "deploy/prometheus/alerts.yml"))
	promtool(t, nil, "test", "rules", filepath.Join(testenv.RepoRoot(t), "deploy/prometheus/alerts_test.yml"))

	var rules ruleFile
	if err := yaml.Unmarshal(readFile(t, "deploy/prometheus/alerts.yml"), &rules); err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string
				ExpAlerts []any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		}
	}
	if err := yaml.Unmarshal(readFile(t, "deploy/prometheus/alerts_test.yml"), &tests); err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}

	known := recorded(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			checkNames(t, r.Alert, r.Expr+" "+r.Annotations["summary"]+" "+r.Annotations["description"], known)
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: wants for, a severity label, a summary and a description", r.Alert)
			}
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("%s: alerts_test.yml lacks a case where it fires (%v) or one where it does not (%v)",
					r.Alert, fires[r.Alert], silent[r.Alert])
			}
		}
	}
	if n < 7 {
		t.Errorf("alerts.yml: %d rules, want at least 7", n)
	}
}

func TestDashboard(t *testing.T) {
	var dash map[string]any
	if err := json.Unmarshal(readFile(t, "deploy/grafana/pgreconciler-dashboard.json"), &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if v, _ := dash["schemaVersion"].(float64); v < 36 {
		t.Errorf("schemaVersion %v, want 36 or later", dash["schemaVersion"])
	}

	// Template variables: the data source and the label_values filters.
	vars := map[string]map[string]any{}
	templating, _ := dash["templating"].(map[string]any)
	list, _ := templating["list"].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		vars[fmt.Sprint(m["name"])] = m
	}
	if ds := vars["datasource"]; ds == nil || ds["type"] != "datasource" || ds["query"] != "prometheus" {
		t.Errorf("template variable datasource: got %v, want a prometheus datasource variable", ds)
	}
	for _, name := range []string{"cluster", "source"} {
		if v := vars[name]; v == nil || !strings.Contains(fmt.Sprint(v["definition"]), "label_values(") {
			t.Errorf("template variable %s: got %v, want a label_values query", name, v)
		}
	}

	// Every query names recorded metrics only, every panel reads the
	// datasource variable, and every recorded metric is shown somewhere.
	known := recorded(t)
	used := map[string]bool{}
	var exprs []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ds, ok := v["datasource"].(map[string]any); ok && ds["uid"] != "${datasource}" {
				t.Errorf("%s: datasource %v, want uid ${datasource}", path, ds)
			}
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					for f := range checkNames(t, path+"."+k, s, known) {
						used[f] = true
					}
					if k == "expr" {
						exprs = append(exprs, s)
					}
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("dashboard", dash)
	for name, fam := range known {
		if name == fam && !used[fam] {
			t.Errorf("metric %s is on no dashboard panel", fam)
		}
	}

	// The queries are valid PromQL: promtool checks them as recording rules
	// with Grafana's variables filled in.
	fill := strings.NewReplacer("$__rate_interval", "5m", "$cluster", ".*", "$source", ".*")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(fill.Replace(e))
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	promtool(t, nil, "check", "rules", path)
}

// manifests parses every document of deploy/kubernetes/*.yaml, by kind.
func manifests(t *testing.T) map[string][]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "deploy/kubernetes/*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("deploy/kubernetes: %v %v", files, err)
	}
	byKind := map[string][]map[string]any{}
	for _, f := range files {
		dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, filepath.Join("deploy/kubernetes", filepath.Base(f))))))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			if doc != nil {
				kind := fmt.Sprint(doc["kind"])
				byKind[kind] = append(byKind[kind], doc)
			}
		}
	}
	return byKind
}

// get walks a parsed YAML document: keys for maps, ints for lists.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	docs := manifests(t)
	for _, kind := range []string{"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "ServiceMonitor", "PersistentVolumeClaim", "Kustomization"} {
		if len(docs[kind]) != 1 {
			t.Errorf("deploy/kubernetes: %d %s, want 1", len(docs[kind]), kind)
		}
	}
	if len(docs["Deployment"]) == 0 {
		return
	}
	d := docs["Deployment"][0]
	pod := get(d, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	want := []struct {
		path []any
		val  any
	}{
		{[]any{"spec", "replicas"}, 1},
		{[]any{"spec", "strategy", "type"}, "Recreate"},
		{[]any{"spec", "template", "spec", "automountServiceAccountToken"}, false},
		{[]any{"spec", "template", "spec", "securityContext", "runAsNonRoot"}, true},
		{[]any{"spec", "template", "spec", "securityContext", "runAsUser"}, 65532},
		{[]any{"spec", "template", "spec", "securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
	}
	for _, w := range want {
		if got := get(d, w.path...); got != w.val {
			t.Errorf("Deployment %v: got %v, want %v", w.path, got, w.val)
		}
	}
	wantC := []struct {
		path []any
		val  any
	}{
		{[]any{"securityContext", "readOnlyRootFilesystem"}, true},
		{[]any{"securityContext", "allowPrivilegeEscalation"}, false},
		{[]any{"securityContext", "runAsNonRoot"}, true},
		{[]any{"securityContext", "capabilities", "drop", 0}, "ALL"},
		{[]any{"securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
		{[]any{"livenessProbe", "httpGet", "path"}, "/healthz"},
		{[]any{"readinessProbe", "httpGet", "path"}, "/readyz"},
		{[]any{"ports", 0, "name"}, "http-metrics"},
		{[]any{"ports", 0, "containerPort"}, 9910},
		{[]any{"args", 2}, "/etc/pgreconciler/config/reconciler.yml"},
	}
	for _, w := range wantC {
		if got := get(c, w.path...); got != w.val {
			t.Errorf("container %v: got %v, want %v", w.path, got, w.val)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		if get(c, "resources", r, "memory") == nil {
			t.Errorf("container resources.%s.memory is not set", r)
		}
	}
	volumes := map[string]any{}
	for _, v := range get(pod, "volumes").([]any) {
		volumes[fmt.Sprint(get(v, "name"))] = v
	}
	mounts := map[string]string{}
	for _, m := range get(c, "volumeMounts").([]any) {
		mounts[fmt.Sprint(get(m, "name"))] = fmt.Sprint(get(m, "mountPath"))
	}
	for name, source := range map[string]string{"config": "configMap", "secrets": "secret", "state": "emptyDir", "cache": "emptyDir", "tmp": "emptyDir"} {
		if get(volumes[name], source) == nil || mounts[name] == "" {
			t.Errorf("volume %s: want a mounted %s", name, source)
		}
	}

	if s := docs["Service"]; len(s) == 1 {
		if get(s[0], "spec", "ports", 0, "name") != "http-metrics" || get(s[0], "spec", "ports", 0, "port") != 9910 {
			t.Errorf("Service: want port 9910 named http-metrics, got %v", get(s[0], "spec", "ports"))
		}
	}
	if sm := docs["ServiceMonitor"]; len(sm) == 1 {
		e := get(sm[0], "spec", "endpoints", 0)
		if get(sm[0], "apiVersion") != "monitoring.coreos.com/v1" || get(e, "port") != "http-metrics" ||
			get(e, "path") != "/metrics" || get(e, "honorLabels") != true {
			t.Errorf("ServiceMonitor: want monitoring.coreos.com/v1 scraping http-metrics /metrics with honorLabels, got %v", e)
		}
	}
	if k := docs["Kustomization"]; len(k) == 1 {
		for _, r := range get(k[0], "resources").([]any) {
			if _, err := os.Stat(filepath.Join(testenv.RepoRoot(t), "deploy/kubernetes", fmt.Sprint(r))); err != nil {
				t.Errorf("kustomization.yaml: resource %v: %v", r, err)
			}
		}
	}
}

// configKeys lists the key paths of a configuration: list items merge
// into "[]", and the per-cluster connection overrides into "*".
func configKeys(prefix string, v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if prefix == ".connection.clusters" {
				k = "*"
			}
			into[prefix+"."+k] = true
			configKeys(prefix+"."+k, e, into)
		}
	case []any:
		for _, e := range v {
			configKeys(prefix+"[]", e, into)
		}
	}
}

// The three configuration examples pass the daemon's parser, use the same
// keys, and set a mode for exactly the drift classes.
func TestExampleConfigs(t *testing.T) {
	var cm struct {
		Data map[string]string
	}
	if err := yaml.Unmarshal(readFile(t, "deploy/kubernetes/configmap.yaml"), &cm); err != nil {
		t.Fatal(err)
	}
	configs := map[string][]byte{
		"examples/reconciler.yml":                         readFile(t, "examples/reconciler.yml"),
		"deploy/systemd/reconciler.yml":                   readFile(t, "deploy/systemd/reconciler.yml"),
		"deploy/kubernetes/configmap.yaml reconciler.yml": []byte(cm.Data["reconciler.yml"]),
	}
	var first string
	var firstKeys []string
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		if _, err := config.Parse(name, configs[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(configs[name], &doc); err != nil || doc == nil {
			t.Errorf("%s: %v (empty: %v)", name, err, doc == nil)
			continue
		}
		set := map[string]bool{}
		configKeys("", doc, set)
		keys := slices.Sorted(maps.Keys(set))
		if first == "" {
			first, firstKeys = name, keys
		} else if !slices.Equal(keys, firstKeys) {
			t.Errorf("%s and %s use different keys:\n%v\n%v", name, first, keys, firstKeys)
		}
		modes, _ := doc["modes"].(map[string]any)
		classes := slices.Sorted(maps.Keys(modes))
		var want []string
		for _, c := range model.DriftClasses() {
			want = append(want, string(c))
		}
		if slices.Sort(want); !slices.Equal(classes, want) {
			t.Errorf("%s: modes for %v, want %v", name, classes, want)
		}
	}

	for _, f := range []string{"examples/ci/github/pgreconciler-plan.yml", "examples/ci/gitlab/.gitlab-ci.yml"} {
		var doc map[string]any
		if err := yaml.Unmarshal(readFile(t, f), &doc); err != nil || len(doc) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
