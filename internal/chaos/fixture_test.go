package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// settings of a fault run: `make test` takes the defaults, `make
// test-chaos` sets the environment.
type settings struct {
	iterations int   // CHAOS_ITERATIONS: runs of each fault
	seed       int64 // CHAOS_SEED: the first run's seed; run i has seed+i
	roles      int   // CHAOS_ROLES: login roles in the spec
}

func chaosSettings(t *testing.T) settings {
	t.Helper()
	s := settings{iterations: 1, seed: time.Now().UnixNano() % 1_000_000_000, roles: 30}
	for name, p := range map[string]*int{"CHAOS_ITERATIONS": &s.iterations, "CHAOS_ROLES": &s.roles} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive number", name, v)
			}
			*p = n
		}
	}
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: want a number", v)
		}
		s.seed = n
	}
	return s
}

// eachSeed runs body CHAOS_ITERATIONS times, each with its own seeded
// random source; the seed is printed, so that one failing run can be
// replayed alone.
func eachSeed(t *testing.T, body func(t *testing.T, rng *rand.Rand, roles int)) {
	s := chaosSettings(t)
	for i := 0; i < s.iterations; i++ {
		seed := s.seed + int64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			replay := fmt.Sprintf("CHAOS_SEED=%d CHAOS_ITERATIONS=1 CHAOS_ROLES=%d go test -run '%s' ./internal/chaos/", seed, s.roles, t.Name())
			t.Log("replay:", replay)
			t.Cleanup(func() {
				if t.Failed() {
					t.Log("FAILED; replay:", replay)
				}
			})
			body(t, rand.New(rand.NewPCG(uint64(seed), 0)), s.roles)
		})
	}
}

// reconcilerBin is the reconciler, built once per test run.
func reconcilerBin(t *testing.T) string { return testenv.ReconcilerBinary(t) }

// secretMark starts every password of the spec: no output may hold it.
const secretMark = "ChaosPw"

// specVars declares roles login roles, each with a name, a password and
// a comment holding characters that need quoting, a connection limit
// and a membership, one database, one HBA rule and one parameter: the
// apply runs every execution mode (transactions, a password transaction
// per role, steps, ALTER SYSTEM, pg_hba.conf). gen changes every value,
// so that a new generation is a real change of every role.
func specVars(roles, gen int) string {
	var b strings.Builder
	b.WriteString("pg_users: [\n")
	for i := 0; i < roles; i++ {
		pw, _ := json.Marshal(fmt.Sprintf("%s%d.%d'\"\\$$; --é %%s", secretMark, gen, i))
		fmt.Fprintf(&b, "\t{name: %q, password: %s, connlimit: %d, comment: %q, roles: [\"dbrole_readonly\"]},\n",
			roleName(i), pw, 10+gen, fmt.Sprintf("chaos role %d, it's $$ generation %d \\ \"q\"; --", i, gen))
	}
	b.WriteString("]\n")
	fmt.Fprintf(&b, `pg_databases: [{name: "chaos_db", owner: %q, comment: "generation %d"}]
pg_hba_rules: [{user: %q, db: "chaos_db", addr: "127.0.0.0/8", auth: "ssl", title: "chaos generation %d", order: 50}]
pg_parameters: {work_mem: "%dMB"}
pg_default_privileges: []
`, roleName(0), gen, roleName(0), gen, 4+gen)
	return b.String()
}

// roleName is the name of role i: every character the schema allows
// that needs quoting in SQL (".", "-", "@") is in it.
func roleName(i int) string { return fmt.Sprintf("chaos_u%04d.x-y@z", i) }

// fixture is one fault run: a signed spec repository, a state directory,
// the primary's address as the spec names it, and every output captured.
type fixture struct {
	t        *testing.T
	roles    int
	repo     *gitenv.Repo
	signer   *gitenv.SSHSigner
	signers  string
	stateDir string
	host     string // the primary's address in the spec: its own, or a proxy's
	logFrom  int    // the server log's length when the run started
	outputs  map[string]string
}

func newFixture(t *testing.T, roles int, host, stateDir string) *fixture {
	t.Helper()
	cluster.ResetForReconciler(t)
	if host != cluster.Primary.Addr {
		t.Setenv("PGSSLMODE", "require") // the certificate names the server's address, not the proxy's
	}
	if stateDir == "" {
		stateDir = t.TempDir()
	}
	f := &fixture{t: t, roles: roles, repo: gitenv.NewRepo(t), signer: gitenv.NewSSHSigner(t, "ed25519", "chaos@example.com"),
		stateDir: stateDir, host: host, outputs: map[string]string{}}
	f.signers = filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(f.signers, []byte(f.signer.AllowedSignersLine(`namespaces="git"`)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := cluster.Primary.Log()
	if err != nil {
		t.Fatal(err)
	}
	f.logFrom = len(log)
	t.Cleanup(func() { // after the processes' own cleanups
		if t.Failed() {
			for name, out := range f.outputs {
				t.Logf("output of %s:\n%s", name, out)
			}
		}
	})
	return f
}

// commit commits generation gen of the spec, signed.
func (f *fixture) commit(gen int) string {
	spec := cluster.PigstySpec(specVars(f.roles, gen))
	if f.host != cluster.Primary.Addr {
		spec = strings.Replace(spec, strconv.Quote(cluster.Primary.Addr)+":", strconv.Quote(f.host)+":", 1)
	}
	f.repo.WriteFile("fleet.cue", spec)
	return f.repo.Commit(fmt.Sprintf("generation %d", gen), f.signer)
}

func (f *fixture) args(cmd string, extra ...string) []string {
	return append([]string{cmd, "--repo", f.repo.Dir, "--allowed-signers", f.signers, "--state-dir", f.stateDir}, extra...)
}

// proc is a reconciler command running.
type proc struct {
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	done chan struct{}
	code int
}

// start runs the reconciler with args; its output is kept under name.
func (f *fixture) start(name string, args ...string) *proc {
	f.t.Helper()
	p := &proc{cmd: exec.Command(reconcilerBin(f.t), args...), out: &testenv.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
		close(p.done)
	}()
	f.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		f.outputs[name] = p.out.String()
	})
	return p
}

// wait waits for p to end and returns its output and exit code (-1:
// killed by a signal).
func (f *fixture) wait(name string, p *proc) (string, int) {
	f.t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		f.t.Fatalf("%s still runs after 5 minutes", name)
	}
	out := p.out.String()
	f.outputs[name] = out
	return out, p.code
}

// run runs the reconciler to its end.
func (f *fixture) run(name string, args ...string) (string, int) {
	f.t.Helper()
	return f.wait(name, f.start(name, args...))
}

// progress is how many of the spec's roles exist, or -1 when the primary
// cannot say.
func (f *fixture) progress() int {
	v, err := cluster.Primary.LocalValue(context.Background(), "postgres", `SELECT count(*) FROM pg_roles WHERE rolname LIKE 'chaos\_u%'`)
	if err != nil {
		return -1
	}
	n, _ := strconv.Atoi(v)
	return n
}

// waitProgress waits until at least n roles exist (or the process ended).
func (f *fixture) waitProgress(p *proc, n int) int {
	f.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return f.progress()
		default:
		}
		if got := f.progress(); got >= n {
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
	f.t.Fatalf("fewer than %d roles after 3 minutes", n)
	return 0
}
