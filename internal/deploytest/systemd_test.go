package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unit parses a systemd unit or drop-in into key → values.
func unit(text string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		m[k] = append(m[k], v)
	}
	return m
}

// TestSystemdUnitFiles: the hardening stays as documented, the drop-in
// sets what the local writer needs, and systemd-analyze accepts both.
func TestSystemdUnitFiles(t *testing.T) {
	text := readFile(t, "deploy/systemd/pgreconciler.service")
	u := unit(text)
	for k, v := range map[string]string{
		"User": "pgreconciler", "Group": "pgreconciler", "DynamicUser": "no",
		"ExecStart":  "/usr/local/bin/reconciler run --config /etc/pgreconciler/reconciler.yml",
		"ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
		"StateDirectory": "pgreconciler", "CacheDirectory": "pgreconciler", "ConfigurationDirectory": "pgreconciler",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"NoNewPrivileges": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "LockPersonality": "yes",
		"MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
		"CapabilityBoundingSet": "", "UMask": "0077", "ReadWritePaths": "", "RemoveIPC": "yes",
	} {
		if !slices.Equal(u[k], []string{v}) {
			t.Errorf("pgreconciler.service: %s=%q, want %q", k, u[k], v)
		}
	}
	if !slices.Contains(u["SystemCallFilter"], "@system-service") {
		t.Errorf("pgreconciler.service: SystemCallFilter=%q lacks @system-service", u["SystemCallFilter"])
	}
	dropIn := readFile(t, "deploy/systemd/local-hba-writer.conf")
	d := unit(dropIn)
	for k, v := range map[string]string{
		"User": "postgres", "Group": "postgres", "SupplementaryGroups": "pgreconciler",
		"RestrictAddressFamilies": "AF_NETLINK", "ReadWritePaths": "/pg/data", "RemoveIPC": "no",
	} {
		if !slices.Equal(d[k], []string{v}) {
			t.Errorf("local-hba-writer.conf: %s=%q, want %q", k, d[k], v)
		}
	}

	// systemd's own check of the unit with its drop-in, on copies whose
	// ExecStart exists. Any output is a warning systemd would log.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "pgreconciler.service"), strings.ReplaceAll(text, "/usr/local/bin/reconciler", "/bin/true"), 0o644)
	write(t, filepath.Join(dir, "pgreconciler.service.d", "local-hba-writer.conf"), dropIn, 0o644)
	cmd := exec.Command("systemd-analyze", "verify", "pgreconciler.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify (scripts/install-deps.sh installs it): %v\n%s", err, out)
	}
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// docBlocks returns the shell blocks of docs/daemon.md that are marked as
// run by this package, in order.
func docBlocks(t *testing.T) []string {
	t.Helper()
	const marker = "<!-- internal/deploytest runs this block as it stands, under systemd -->"
	var blocks []string
	doc := readFile(t, "docs/daemon.md")
	for _, part := range strings.Split(doc, marker)[1:] {
		_, body, ok := strings.Cut(part, "```sh\n")
		body, _, closed := strings.Cut(body, "```")
		if !ok || !closed {
			t.Fatalf("docs/daemon.md: no ```sh block after the marker")
		}
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		blocks = append(blocks, strings.Join(lines, "\n"))
	}
	if len(blocks) != 2 {
		t.Fatalf("docs/daemon.md: %d marked blocks, want the install and the local writer's", len(blocks))
	}
	return blocks
}
