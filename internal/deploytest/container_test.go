package deploytest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// instanceIP is the database host's address in the container: an
// intranet address, not a loopback one.
const instanceIP = "10.213.0.11"

// TestSystemdInstall boots systemd in a container, runs the install steps
// of docs/daemon.md (the unit, then the local writer's drop-in) and checks
// that the daemon, under the unit's sandbox, converges a cluster including
// its pg_hba.conf, reloads, stops cleanly and leaves the server's shared
// memory alone.
func TestSystemdInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("booting systemd in a container needs root")
	}
	if _, err := exec.LookPath("systemd-nspawn"); err != nil {
		t.Fatalf("systemd-nspawn: %v (scripts/install-deps.sh installs systemd-container)", err)
	}
	stage := t.TempDir()
	lib := filepath.Join(stage, "usr/local/lib/pgrtest")
	src := filepath.Join(lib, "src")
	buildReconciler(t, filepath.Join(src, "bin/reconciler"))
	for _, f := range []string{"pgreconciler.service", "local-hba-writer.conf"} {
		write(t, filepath.Join(src, "deploy/systemd", f), readFile(t, "deploy/systemd/"+f), 0o644)
	}
	write(t, filepath.Join(src, "deploy/systemd/reconciler.yml"), testConfig(t), 0o644)
	blocks := docBlocks(t)
	write(t, filepath.Join(lib, "install.sh"), blocks[0], 0o755)
	write(t, filepath.Join(lib, "install-local.sh"), blocks[1], 0o755)
	for _, f := range []string{"run.sh", "pgrtest.target", "pgrtest.service", "pgrtest-postgres.service"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(stage, "etc/systemd/system", f)
		if f == "run.sh" {
			dst = filepath.Join(lib, f)
		}
		write(t, dst, string(b), 0o755)
	}
	// The PostgreSQL the harness runs (18 by default, as Pigsty v4),
	// from the host's root the container is an overlay of.
	pgBin, pgMajor, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(lib, "pg.env"), fmt.Sprintf("PGBIN=%s\nPGMAJOR=%d\n", pgBin, pgMajor), 0o644)
	password := rand.Text()
	write(t, filepath.Join(lib, "dba.pw"), password, 0o600)
	write(t, filepath.Join(src, "pgpass"), fmt.Sprintf("%s:5432:*:dbuser_dba:%s\n", instanceIP, password), 0o600)
	head := specRepository(t, filepath.Join(src, "bin/reconciler"), filepath.Join(stage, "srv/pgreconciler/fleet.git"), filepath.Join(src, "allowed_signers"))

	results := t.TempDir()
	runContainer(t, stage, results)
	res := func(name string) string {
		b, err := os.ReadFile(filepath.Join(results, name))
		if err != nil {
			t.Errorf("the container left no %s: %v", name, err)
		}
		return string(b)
	}
	log := res("run.log")
	if res("done") == "" {
		t.Fatalf("the container's script did not finish:\n%s\njournal:\n%s", tailLines(log, 40), tailLines(res("journal-all.txt"), 40))
	}

	var status struct {
		Clusters []struct {
			Commit     string
			LastResult string `json:"last_result"`
			Drift      map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(res("status.json")), &status); err != nil || len(status.Clusters) != 1 {
		t.Fatalf("status: %v\n%s", err, res("status.json"))
	}
	c := status.Clusters[0]
	if c.LastResult != "success" || len(c.Drift) != 0 || c.Commit != head {
		t.Errorf("status: last_result %q, drift %v, commit %s (want success, none, %s)\njournal:\n%s", c.LastResult, c.Drift, c.Commit, head, res("journal.txt"))
	}
	if !strings.Contains(res("pg_hba.conf"), "hostssl  all                dbuser_app         10.213.0.0/24      scram-sha-256") {
		t.Errorf("pg_hba.conf was not rewritten by the local writer:\n%s\njournal:\n%s", res("pg_hba.conf"), res("journal.txt"))
	}
	if got := strings.TrimSpace(res("roles.txt")); got != "dbuser_app" {
		t.Errorf("role dbuser_app: %q", got)
	}
	for _, want := range []string{
		"/pg/data/pg_hba.conf postgres:postgres 600", "/var/lib/pgreconciler postgres:postgres 700", "/var/cache/pgreconciler postgres:postgres 700",
	} {
		if !strings.Contains(res("stat.txt"), want) {
			t.Errorf("stat: want %q in\n%s", want, res("stat.txt"))
		}
	}
	show := res("show.txt")
	for _, want := range []string{"ActiveState=active", "NRestarts=0", "User=postgres", "Group=postgres", "SupplementaryGroups=pgreconciler", "RemoveIPC=no"} {
		if !strings.Contains(show, want+"\n") {
			t.Errorf("systemctl show: want %s in\n%s", want, show)
		}
	}
	if !strings.Contains(show, "AF_NETLINK") || !strings.Contains(show, "AF_INET ") {
		t.Errorf("systemctl show: the address families are not the unit's plus AF_NETLINK:\n%s", show)
	}
	// Without the drop-in (the first block alone) the same writer fails on
	// the address family: the sandbox in the container is the real one.
	if !strings.Contains(res("journal-all.txt"), "list this host's addresses: route ip+net: netlinkrib: address family not supported") {
		t.Errorf("the unit without the drop-in did not fail on netlink: is the sandbox applied?\n%s", res("journal-all.txt"))
	}
	journal := res("journal.txt") // the service's run with the drop-in
	if !strings.Contains(journal, "configuration reloaded") {
		t.Errorf("systemctl reload: the daemon did not reload:\n%s", journal)
	}
	if strings.Contains(journal, `"level":"ERROR"`) {
		t.Errorf("the daemon logged errors:\n%s", journal)
	}
	stop := res("stop.txt")
	if !strings.Contains(stop, "Result=success\n") || !strings.Contains(stop, "ExecMainStatus=0\n") {
		t.Errorf("systemctl stop: %s", stop)
	}
	for _, seg := range strings.Fields(res("shm-before.txt")) {
		if strings.HasPrefix(seg, "PostgreSQL.") && !strings.Contains(res("shm-after.txt"), seg) {
			t.Errorf("stopping the reconciler removed the server's shared memory segment /dev/shm/%s", seg)
		}
	}
	if !strings.Contains(res("shm-before.txt"), "PostgreSQL.") {
		t.Errorf("no server segment in /dev/shm to check: %q", res("shm-before.txt"))
	}
}

func buildReconciler(t *testing.T, out string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/pgreconciler/pgreconciler/cmd/reconciler")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
}

// testConfig is deploy/systemd/reconciler.yml with what this test has:
// a signed repository at a file:// URL, trust in one SSH key, the database
// host's CA, the local HBA writer and every class applied (PgBouncer's
// left off).
func testConfig(t *testing.T) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, "deploy/systemd/reconciler.yml")), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["sources"] = []map[string]any{{"name": "fleet", "url": "file:///srv/pgreconciler/fleet.git", "branch": "main", "poll_interval": "2s"}}
	cfg["trust"] = map[string]any{"mode": "strict", "allowed_signers": "/etc/pgreconciler/allowed_signers"}
	conn := cfg["connection"].(map[string]any)
	delete(conn, "clusters")
	cfg["hba"] = map[string]any{"writer": "local"}
	cfg["drift_interval"] = "2s"
	modes := cfg["modes"].(map[string]any)
	for k := range modes {
		if k != "pgbouncer" { // the database host runs no PgBouncer: it stays off
			modes[k] = "apply"
		}
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// specRepository makes, with the reconciler binary, a bare repository at dir with one signed commit of
// a one-instance Pigsty inventory, writes the allowed_signers file that
// trusts its key, and returns the commit.
func specRepository(t *testing.T, reconciler, dir, allowedSigners string) string {
	t.Helper()
	signer := gitenv.NewSSHSigner(t, "ed25519", "dba@example.com")
	write(t, allowedSigners, signer.AllowedSignersLine("")+"\n", 0o644)
	passwd := exec.Command(reconciler, "passwd", "dbuser_app")
	passwd.Stdin = strings.NewReader("deploy-test-app\n")
	verifier, err := passwd.Output()
	if err != nil {
		t.Fatalf("reconciler passwd: %v", err)
	}
	repo := gitenv.NewRepo(t)
	repo.WriteFile("pigsty.yml", fmt.Sprintf(`all:
  vars:
    admin_ip: %[1]s
    node_firewall_intranet: ["10.0.0.0/8"]
  children:
    pg-test:
      hosts:
        %[1]s: {pg_seq: 1, pg_role: primary}
      vars:
        pg_cluster: pg-test
        pg_users:
          - {name: dbuser_app, password: "%[2]s", comment: "deploy test"}
        pg_hba_rules:
          - {user: dbuser_app, db: all, addr: 10.213.0.0/24, auth: ssl, title: "app over ssl"}
`, instanceIP, strings.TrimSpace(string(verifier))))
	head := repo.Commit("pg-test: dbuser_app and its HBA rule", signer)
	if out, err := exec.Command("git", "clone", "-q", "--bare", repo.Dir, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	return head
}

// container is the shell that boots systemd: in a mount namespace of its
// own (unshare), it moves itself to cgroups of its own, lays an overlay of
// / on a tmpfs, copies the staged files in and boots systemd-nspawn on it
// with a private network, /results bound to the results directory.
const container = `set -eu
W=$1 STAGE=$2 OUT=$3 CG=$4
for h in systemd unified; do
	mkdir -p /sys/fs/cgroup/$h/$CG
	echo $$ >/sys/fs/cgroup/$h/$CG/cgroup.procs
done
mount -t tmpfs tmpfs "$W"
mkdir "$W/up" "$W/work" "$W/root"
mount -t overlay overlay -o lowerdir=/,upperdir="$W/up",workdir="$W/work" "$W/root"
cp -a "$STAGE"/* "$W/root/"
exec systemd-nspawn -q -D "$W/root" --private-network --register=no --keep-unit \
	--bind="$OUT:/results" -b systemd.unit=pgrtest.target
`

func runContainer(t *testing.T, stage, results string) {
	t.Helper()
	work := t.TempDir()
	cg := fmt.Sprintf("pgreconciler-deploytest-%d", os.Getpid())
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", container, "sh", work, stage, results, cg)
	out, err := cmd.CombinedOutput()
	for _, h := range []string{"systemd", "unified"} {
		removeCgroups(filepath.Join("/sys/fs/cgroup", h, cg))
	}
	if err != nil {
		t.Logf("systemd-nspawn: %v\n%s", err, tailLines(string(out), 60))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the container did not power off within 8 minutes:\n%s", tailLines(string(out), 60))
	}
}

// removeCgroups removes a cgroup and those below it, deepest first.
func removeCgroups(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
