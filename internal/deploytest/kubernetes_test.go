package deploytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The Kubernetes manifests: both kustomizations (the one-replica Deployment
// of deploy/kubernetes, the sharded StatefulSet of
// deploy/kubernetes-statefulset) are rendered by `kubectl kustomize`, and
// every object is decoded strictly into the typed structs of k8s.io/api:
// a field the API does not have (a typo, a field at the wrong level) or a
// value of the wrong type fails. Then what the schema cannot say: the
// selectors select the pods, the StatefulSet's governing Service is
// headless, its pods get their shard, the PDB covers them.

// rendered is one kustomization's output.
type rendered struct {
	objects []map[string]any
	raw     [][]byte // JSON of each object, for strict decoding
}

func kustomize(t *testing.T, dir string) rendered {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is needed to render the manifests (the Go machine image has it at /usr/bin/kubectl): %v", err)
	}
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
	return decodeAll(t, dir, out)
}

func decodeAll(t *testing.T, what string, data []byte) rendered {
	t.Helper()
	var r rendered
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if obj == nil {
			continue
		}
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		r.objects, r.raw = append(r.objects, obj), append(r.raw, b)
	}
	return r
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor
// the manifests use (the Prometheus Operator's types are not worth a
// dependency): any other field fails.
type serviceMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       struct {
		Selector  struct{ MatchLabels map[string]string } `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
			HonorLabels   bool   `json:"honorLabels"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// typed decodes one object strictly into the struct of its kind.
func typed(t *testing.T, raw []byte, obj map[string]any) any {
	t.Helper()
	gk := fmt.Sprintf("%v/%v", obj["apiVersion"], obj["kind"])
	var v any
	switch gk {
	case "v1/Namespace":
		v = &corev1.Namespace{}
	case "v1/ConfigMap":
		v = &corev1.ConfigMap{}
	case "v1/Secret":
		v = &corev1.Secret{}
	case "v1/Service":
		v = &corev1.Service{}
	case "v1/PersistentVolumeClaim":
		v = &corev1.PersistentVolumeClaim{}
	case "apps/v1/Deployment":
		v = &appsv1.Deployment{}
	case "apps/v1/StatefulSet":
		v = &appsv1.StatefulSet{}
	case "policy/v1/PodDisruptionBudget":
		v = &policyv1.PodDisruptionBudget{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		v = &serviceMonitor{}
	default:
		t.Fatalf("%s: no schema for this kind", gk)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("%s %v: %v", gk, obj["metadata"], err)
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	root := filepath.Join("..", "..", "deploy")
	for _, dir := range []string{"kubernetes", "kubernetes-statefulset"} {
		t.Run(dir, func(t *testing.T) {
			r := kustomize(t, filepath.Join(root, dir))
			var pods *corev1.PodTemplateSpec
			var services []*corev1.Service
			var sts *appsv1.StatefulSet
			var pdb *policyv1.PodDisruptionBudget
			var workloads []string
			for i, raw := range r.raw {
				switch v := typed(t, raw, r.objects[i]).(type) {
				case *appsv1.Deployment:
					workloads = append(workloads, "Deployment")
					pods = &v.Spec.Template
					if v.Spec.Replicas == nil || *v.Spec.Replicas != 1 || v.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
						t.Error("the Deployment is the one-replica setup: replicas 1, strategy Recreate")
					}
					selects(t, "the Deployment", v.Spec.Selector.MatchLabels, pods)
				case *appsv1.StatefulSet:
					workloads = append(workloads, "StatefulSet")
					sts, pods = v, &v.Spec.Template
					selects(t, "the StatefulSet", v.Spec.Selector.MatchLabels, pods)
				case *corev1.Service:
					services = append(services, v)
				case *policyv1.PodDisruptionBudget:
					pdb = v
				}
			}
			if len(workloads) != 1 {
				t.Fatalf("workloads %v, want exactly one (no Deployment beside the StatefulSet)", workloads)
			}
			for _, s := range services {
				selects(t, "Service "+s.Name, s.Spec.Selector, pods)
			}
			c := pods.Spec.Containers[0]
			for _, v := range pods.Spec.Volumes {
				if v.ConfigMap != nil && !slices.ContainsFunc(r.objects, func(o map[string]any) bool {
					return o["kind"] == "ConfigMap" && o["metadata"].(map[string]any)["name"] == v.ConfigMap.Name
				}) {
					t.Errorf("volume %s: ConfigMap %s is not in the kustomization", v.Name, v.ConfigMap.Name)
				}
			}
			if sts == nil {
				if slices.Contains(c.Args, "--shard") {
					t.Error("the one-replica Deployment owns every cluster: no --shard")
				}
				return
			}
			// The sharded variant.
			if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
				t.Errorf("podManagementPolicy %q, want Parallel", sts.Spec.PodManagementPolicy)
			}
			var governing *corev1.Service
			for _, s := range services {
				if s.Name == sts.Spec.ServiceName {
					governing = s
				}
			}
			if governing == nil || governing.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("serviceName %q: want a headless Service of the kustomization", sts.Spec.ServiceName)
			}
			if i := slices.Index(c.Args, "--shard"); i < 0 || i+1 >= len(c.Args) || c.Args[i+1] != "auto" {
				t.Errorf("args %v: want --shard auto", c.Args)
			}
			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			n, err := strconv.Atoi(env["PGRECONCILER_SHARDS"].Value)
			if err != nil || n < 1 || sts.Spec.Replicas == nil || *sts.Spec.Replicas%int32(n) != 0 {
				t.Errorf("PGRECONCILER_SHARDS %q with replicas %v: want a shard count that divides the replicas", env["PGRECONCILER_SHARDS"].Value, sts.Spec.Replicas)
			}
			if ix := env["PGRECONCILER_SHARD_INDEX"].ValueFrom; ix == nil || ix.FieldRef == nil ||
				ix.FieldRef.FieldPath != "metadata.labels['apps.kubernetes.io/pod-index']" {
				t.Error("PGRECONCILER_SHARD_INDEX: want the pod-index label through the downward API")
			}
			if !slices.ContainsFunc(sts.Spec.VolumeClaimTemplates, func(p corev1.PersistentVolumeClaim) bool { return p.Name == "state" }) ||
				!slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
					return m.Name == "state" && m.MountPath == "/var/lib/pgreconciler"
				}) {
				t.Error("want a state volume per pod (volumeClaimTemplates) mounted at the state_dir")
			}
			if pdb == nil {
				t.Fatal("no PodDisruptionBudget")
			}
			selects(t, "the PodDisruptionBudget", pdb.Spec.Selector.MatchLabels, pods)
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
				t.Error("the PodDisruptionBudget: want maxUnavailable 1")
			}
		})
	}
}

// TestKubernetesExtraManifests: the files kept out of the kustomization
// (the Secret's example, the PVC) follow the schema too.
func TestKubernetesExtraManifests(t *testing.T) {
	for _, f := range []string{"secret.example.yaml", "pvc.yaml"} {
		p := filepath.Join("..", "..", "deploy", "kubernetes", f)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r := decodeAll(t, p, data)
		for i, raw := range r.raw {
			typed(t, raw, r.objects[i])
		}
		if len(r.raw) == 0 {
			t.Errorf("%s: no object", p)
		}
	}
}

// selects fails unless the selector (non-empty) matches the pods' labels.
func selects(t *testing.T, what string, sel map[string]string, pods *corev1.PodTemplateSpec) {
	t.Helper()
	if pods == nil {
		return
	}
	if len(sel) == 0 || !labels.SelectorFromSet(sel).Matches(labels.Set(pods.Labels)) {
		t.Errorf("%s selects %v, the pods are labelled %v", what, sel, pods.Labels)
	}
}
