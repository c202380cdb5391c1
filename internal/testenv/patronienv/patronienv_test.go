package patronienv

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// The harness gives what its doc promises: Pigsty's roles, HBA and
// patroni.yml shape, programs as the postgres user, members that stop,
// start and survive their Patroni being killed, no password in any log,
// and nothing left behind.
func TestCluster(t *testing.T) {
	c, err := Start(Options{Name: "pg-h", Members: 2, BaseIP: 7})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			c.Close()
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if leader.Seq != 1 || leader.Addr != "127.0.0.7" {
		t.Fatalf("leader %s on %s", leader.Name(), leader.Addr)
	}

	for _, m := range c.Members() {
		// Pigsty's system roles with their passwords, over TCP+SSL.
		for user, pw := range map[string]string{c.SuperUser: c.SuperPassword, c.MonitorUser: c.MonitorPassword} {
			conn, err := m.Connect(ctx, user, pw, "postgres")
			if err != nil {
				t.Fatalf("%s: %v", m.Name(), err)
			}
			var ssl bool
			if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
				t.Errorf("%s as %s: ssl %v %v", m.Name(), user, ssl, err)
			}
			conn.Close(ctx)
		}
		// pg_rewind's connection: replicator to the postgres database.
		conn, err := m.Connect(ctx, c.ReplUser, c.ReplPassword, "postgres")
		if err != nil {
			t.Fatalf("%s: replicator: %v", m.Name(), err)
		}
		conn.Close(ctx)
		// The HBA file is the harness's, not Patroni's, on every member.
		if b, err := os.ReadFile(m.HBAPath()); err != nil || string(b) != c.hba() {
			t.Errorf("%s: pg_hba.conf is not Pigsty's rules: %v\n%s", m.Name(), err, b)
		}
		var cfg map[string]any
		if err := yaml.Unmarshal(readFile(t, m.ConfigFile), &cfg); err != nil {
			t.Fatal(err)
		}
		if pg := cfg["postgresql"].(map[string]any); pg["pg_hba"] != nil {
			t.Errorf("%s: patroni.yml has a pg_hba section", m.Name())
		}
		if rest := cfg["restapi"].(map[string]any); rest["authentication"] == nil || len(rest["allowlist"].([]any)) != 3 {
			t.Errorf("%s: restapi %v", m.Name(), rest)
		}
		if c.acct.Switched {
			for _, pid := range []int{m.PostmasterPID(), m.patroniPID()} {
				if owner := procUser(t, pid); owner != "postgres" {
					t.Errorf("%s: process %d runs as %s", m.Name(), pid, owner)
				}
			}
		}
	}
	var roles int
	conn, err := leader.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE
		(rolname = 'dbuser_dba' AND rolsuper) OR (rolname = 'replicator' AND rolreplication) OR
		(rolname = 'dbuser_monitor' AND pg_has_role('dbuser_monitor', 'pg_monitor', 'member'))`).Scan(&roles)
	conn.Close(ctx)
	if err != nil || roles != 3 {
		t.Fatalf("system roles: %d %v", roles, err)
	}

	r := c.Members()[1]
	if err := r.StopPatroni(); err != nil {
		t.Fatal(err)
	}
	if r.PostmasterPID() != 0 || len(runas.ProcessesIn(r.DataDir)) != 0 {
		t.Fatal("PostgreSQL still runs after StopPatroni")
	}
	if err := r.StartPatroni(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	pid := r.PostmasterPID()
	if err := r.KillPatroni(); err != nil {
		t.Fatal(err)
	}
	if r.PostmasterPID() != pid {
		t.Fatal("PostgreSQL did not survive its Patroni's death")
	}
	if err := r.StartPatroni(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if r.PostmasterPID() != pid {
		t.Fatal("a restarted Patroni did not adopt the running PostgreSQL")
	}

	logs := []string{c.etcd.log}
	for _, m := range c.Members() {
		logs = append(logs, m.LogFile)
	}
	for _, l := range logs {
		text := string(readFile(t, l))
		for _, pw := range []string{c.APIPassword, c.SuperPassword, c.ReplPassword, c.MonitorPassword} {
			if strings.Contains(text, pw) {
				t.Errorf("%s holds a password", l)
			}
		}
	}

	dir := c.baseDir
	closed = true
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory left: %v", err)
	}
	if left := runas.ProcessesIn(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Members: -1}, {BaseIP: 254, Members: 2}, {Name: "a b"}, {Name: "x/y"}} {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	o, err := Options{}.withDefaults()
	if err != nil || o.Name != "pg-test" || o.Members != 3 || o.BaseIP != 1 {
		t.Fatalf("defaults %+v %v", o, err)
	}
}

func (m *Member) patroniPID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc == nil {
		return 0
	}
	return m.proc.PID
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// procUser is the name of the user a process runs as.
func procUser(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			u, err := user.LookupId(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return u.Username
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return ""
}
