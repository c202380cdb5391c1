package spec

import (
	"encoding/json"
	"os"
	"testing"
)

func TestExampleRepoQuick(t *testing.T) {
	l, err := NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(os.DirFS("../../examples/repo"), Options{Profile: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Log(p)
	}
	if res.Desired == nil {
		t.Fatal("invalid")
	}
	b, _ := json.MarshalIndent(res.Desired.Cluster("pg-test").Instances[2], "", " ")
	t.Log(string(b))
	res, _ = l.Load(os.DirFS("../../examples/repo"), Options{Profile: "strict"})
	for _, p := range res.Problems {
		t.Log(p)
	}
}
