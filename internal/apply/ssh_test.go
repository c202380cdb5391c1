package apply_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/testenv/sshd"
)

func sshWriter(t *testing.T, s *sshd.Server, knownHosts string) apply.HBAWriter {
	t.Helper()
	w, err := apply.NewSSHWriter(apply.SSHConfig{User: s.User, KeyFile: s.ClientKeyFile, KnownHostsFile: knownHosts,
		Timeout: 30 * time.Second, Addr: func(*model.Instance) string { return s.Addr }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestHBAViaSSH (promises P9, P17; cases F06, F07; docs/promises.md): the SSH writer replaces pg_hba.conf
// as the postgres user, keeping owner and mode, with only the ed25519
// host key pinned while the server also offers ecdsa; an unknown host and
// a changed host key are refused before anything is written.
func TestHBAViaSSH(t *testing.T) {
	f := newFixture(t)
	srv := sshd.Start(t, sshd.Options{})
	f.opts.HBA = sshWriter(t, srv, srv.KnownHostsFile)
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	content := baseHBA + "host all all 10.1.0.0/16 scram-sha-256\nhost all all 127.0.0.0/8 scram-sha-256\n"
	staleTemp(t, filepath.Join(filepath.Dir(env.Primary.HBAPath()), ".pg_hba.conf.pgreconciler-Stale1")) // case H11: a killed writer's leftover
	res := f.apply(hbaChange(primaryName(), content), hbaChange(replicaName(), content))
	wantStatus(t, res, plan.StatusApplied)
	for _, s := range env.Servers() {
		if readHBA(t, s) != content {
			t.Errorf("%s: file differs from the candidate", s.Name())
		}
		st, err := os.Stat(s.HBAPath())
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != pg.Uid || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: uid %d mode %v, want postgres and 0600", s.Name(), uid, st.Mode().Perm())
		}
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.HBAPath()), ".pg_hba.conf.pgreconciler-*"))
		if len(left) > 0 {
			t.Errorf("%s: temp files left: %v", s.Name(), left)
		}
	}
	res = f.apply(hbaChange(primaryName(), content))
	wantStatus(t, res, plan.StatusSkipped)

	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	next := content + "host all all 10.2.0.0/16 scram-sha-256\n"

	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.opts.HBA = sshWriter(t, srv, empty)
	res = f.apply(hbaChange(primaryName(), next))
	if o := res.Outcomes[0]; o.Status != plan.StatusFailed || !strings.Contains(o.Error, "no trust on first use") {
		t.Errorf("unknown host: %s %q", o.Status, o.Error)
	}
	unchanged(t, env.Primary, original, before)

	if err := srv.RotateHostKeys(); err != nil {
		t.Fatal(err)
	}
	f.opts.HBA = sshWriter(t, srv, srv.KnownHostsFile)
	res = f.apply(hbaChange(primaryName(), next))
	o := res.Outcomes[0]
	t.Log(o.Error)
	if o.Status != plan.StatusFailed || !strings.Contains(o.Error, "host key changed") {
		t.Errorf("rotated host key: %s %q", o.Status, o.Error)
	}
	unchanged(t, env.Primary, original, before)
}
