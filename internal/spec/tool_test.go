package spec

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

// TestCUEToolPackagesNeverRun (issue #18): a spec may import CUE's tool
// packages (tool/exec, tool/file, tool/http, tool/os), but evaluating it
// never runs their tasks — only `cue cmd` does, and the loader is not it:
// no command runs, no file is written, no connection is made, whether the
// task is a visible field or a hidden one, and a spec that is only a task
// is refused.
func TestCUEToolPackagesNeverRun(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			connected <- struct{}{}
		}
	}()
	url := "http://" + ln.Addr().String() + "/"
	l := newTestLoader(t)
	for _, tc := range []struct {
		name, src string
	}{
		{"exec", `import "tool/exec"
run: exec.Run & {cmd: ["touch", "` + marker + `"]}`},
		{"exec hidden", `import "tool/exec"
_run: exec.Run & {cmd: ["sh", "-c", "touch ` + marker + `"], success: true}`},
		{"file", `import "tool/file"
run: file.Create & {filename: "` + marker + `", contents: "x"}`},
		{"file hidden", `import "tool/file"
_run: file.Create & {filename: "` + marker + `", contents: "x"}`},
		{"http", `import "tool/http"
get: http.Get & {url: "` + url + `"}`},
		{"os", `import "tool/os"
env: os.Getenv & {HOME: string}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package fleet\n" + tc.src + "\n"
			res, err := l.Load(fstest.MapFS{"fleet.cue": {Data: []byte(src)}}, Options{Profile: "none"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Err() == nil {
				t.Errorf("a spec that is only a tool task was accepted")
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("evaluating the spec ran a tool task: %s exists", marker)
			}
		})
	}
	select {
	case <-connected:
		t.Error("evaluating the spec made an HTTP request")
	case <-time.After(200 * time.Millisecond):
	}
}
