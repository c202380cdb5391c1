package patronienv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
	"github.com/pgreconciler/pgreconciler/internal/testenv/testpki"
)

// AdminIP is the admin node's address in the test (Pigsty's admin_ip): the
// address every loopback client connects from.
const AdminIP = "127.0.0.1"

// staleDirPrefix names every cluster directory, so that the next
// runas.Account.NewDir finds what killed test binaries left.
const staleDirPrefix = "pgreconciler-patronienv-"

// binDir is where Debian's postgresql-15 puts its programs; Patroni needs
// initdb, pg_ctl, pg_basebackup and pg_rewind from it.
const binDir = "/usr/lib/postgresql/15/bin"

// Generous limits: they bound how long a broken cluster is waited for on a
// busy machine; nothing is asserted about them.
const (
	startTimeout = 3 * time.Minute
	stopTimeout  = time.Minute
)

// Options describe the cluster to start. The zero value is a usable default.
type Options struct {
	Name    string // pg_cluster and Patroni scope, default "pg-test"
	Members int    // Patroni members, default 3; the first bootstraps and leads
	BaseIP  int    // last octet of the first member's 127.0.0.X, default 1; the others follow

	// SSL is Pigsty's patroni_ssl_enabled: the REST API on https with the
	// cluster's certificate, patronictl verifying it against the CA.
	SSL bool
	// Allowlist is restapi.allowlist; nil means Pigsty's pg_allow_list,
	// AdminIP and the members' addresses.
	Allowlist []string
	// SynchronousMode turns on Patroni's synchronous_mode (Pigsty's
	// pg_rpo: 0 or crit.yml): no committed transaction is lost on failover.
	SynchronousMode bool
	// Parameters are extra bootstrap.dcs.postgresql.parameters.
	Parameters map[string]string
}

func (o Options) withDefaults() (Options, error) {
	if o.Name == "" {
		o.Name = "pg-test"
	}
	if o.Members == 0 {
		o.Members = 3
	}
	if o.BaseIP == 0 {
		o.BaseIP = 1
	}
	if o.Members < 1 || o.BaseIP < 1 || o.BaseIP+o.Members-1 > 254 {
		return o, fmt.Errorf("check options: %d members from 127.0.0.%d are not usable", o.Members, o.BaseIP)
	}
	if strings.ContainsAny(o.Name, "/ '\\:") {
		return o, fmt.Errorf("check options: cluster name %q must not contain '/', ':', quotes or spaces", o.Name)
	}
	return o, nil
}

// Cluster is a running Patroni cluster: an etcd and its members.
type Cluster struct {
	Name    string
	Port    int // PostgreSQL's port, shared by every member, each on its own address
	APIPort int // Patroni's REST API port (Pigsty's patroni_port), likewise shared

	APIUser, APIPassword string // patroni_username / patroni_password: REST basic auth
	// SystemRoles: replicator is also Patroni's replication and rewind user.
	testenv.SystemRoles
	CACertFile string // the CA of the REST API's and PostgreSQL's certificate

	opts    Options
	acct    runas.Account
	baseDir string
	binDir  string
	tls     testpki.Files
	etcd    *etcd
	members []*Member

	closeOnce sync.Once
	closeErr  error
}

// Start starts etcd and the members, waits until the first member leads
// with the bootstrap roles and Pigsty's pg_hba.conf in place and every
// replica streams. Call Close when done (TestMain), or use New.
func Start(opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var errs []error
	// Another test binary may take a port between the check and the bind:
	// then start again on new ports.
	for attempt := 1; attempt <= 3; attempt++ {
		c, err := start(opts)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// errPortTaken marks a start that failed because a port was taken.
var errPortTaken = errors.New("a port was taken")

func start(opts Options) (*Cluster, error) {
	acct, err := runas.Lookup()
	if err != nil {
		return nil, err
	}
	if err := checkPrograms(); err != nil {
		return nil, err
	}
	base, err := acct.NewDir(staleDirPrefix, opts.Name)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Name:        opts.Name,
		APIUser:     "postgres",
		APIPassword: rand.Text(),
		SystemRoles: testenv.NewSystemRoles(),
		opts:        opts,
		acct:        acct,
		baseDir:     base,
		binDir:      binDir,
		etcd:        &etcd{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.start(ctx); err != nil {
		err = fmt.Errorf("start Patroni cluster %s: %w", opts.Name, err)
		if c.portTaken() {
			err = fmt.Errorf("%w (%w)", err, errPortTaken)
		}
		return nil, errors.Join(err, c.Close())
	}
	return c, nil
}

func checkPrograms() error {
	for _, p := range []string{"initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_rewind"} {
		if _, err := os.Stat(filepath.Join(binDir, p)); err != nil {
			return fmt.Errorf("find PostgreSQL 15 program %s (run scripts/install-deps.sh): %w", p, err)
		}
	}
	for _, p := range []string{"patroni", "patronictl", "etcd"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("find %s (run scripts/install-deps.sh): %w", p, err)
		}
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	var addrs []string
	var ips []net.IP
	for seq := 1; seq <= c.opts.Members; seq++ {
		addr := "127.0.0." + strconv.Itoa(c.opts.BaseIP+seq-1)
		addrs = append(addrs, addr)
		ips = append(ips, net.ParseIP(addr))
	}
	if !slices.Contains(addrs, AdminIP) {
		ips = append(ips, net.ParseIP(AdminIP))
	}
	var err error
	if c.tls, err = testpki.Write(c.baseDir, c.acct, ips); err != nil {
		return err
	}
	c.CACertFile = c.tls.CA
	if err := c.choosePorts(addrs); err != nil {
		return err
	}
	for i, addr := range addrs {
		m := &Member{Cluster: c.Name, Seq: i + 1, Addr: addr, Port: c.Port, APIPort: c.APIPort, cl: c}
		m.dir = filepath.Join(c.baseDir, m.Name())
		m.DataDir = filepath.Join(m.dir, "data")
		m.SocketDir = filepath.Join(m.dir, "socket")
		m.LogFile = filepath.Join(m.dir, "patroni.log")
		m.ConfigFile = filepath.Join(m.dir, "patroni.yml")
		c.members = append(c.members, m)
	}
	if err := c.startEtcd(ctx); err != nil {
		return err
	}
	first := c.members[0]
	if err := c.startMember(ctx, first); err != nil {
		return err
	}
	if err := c.waitLeader(ctx, first.Name()); err != nil {
		return err
	}
	if err := c.bootstrapLeader(ctx, first); err != nil {
		return err
	}
	// Replicas clone the leader in parallel, as Pigsty's replica play does.
	errs := make([]error, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members[1:] {
		wg.Go(func() { errs[i+1] = c.startMember(ctx, m) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.WaitHealthy(ctx)
}

// choosePorts draws PostgreSQL's, the REST API's and etcd's ports.
func (c *Cluster) choosePorts(addrs []string) error {
	var err error
	if c.Port, err = testenv.FreePort(addrs...); err != nil {
		return err
	}
	for c.APIPort == 0 || c.APIPort == c.Port {
		if c.APIPort, err = testenv.FreePort(addrs...); err != nil {
			return err
		}
	}
	taken := map[int]bool{c.Port: true, c.APIPort: true}
	for _, p := range []*int{&c.etcd.ClientPort, &c.etcd.PeerPort} {
		for *p == 0 || taken[*p] {
			if *p, err = testenv.FreePort(AdminIP); err != nil {
				return err
			}
		}
		taken[*p] = true
	}
	return nil
}

// portTaken reports whether a log says a program could not bind its port.
func (c *Cluster) portTaken() bool {
	logs := []string{c.etcd.log}
	for _, m := range c.members {
		logs = append(logs, m.LogFile)
	}
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil && strings.Contains(string(b), "ddress already in use") {
			return true
		}
	}
	return false
}

// New starts a cluster for one test and closes it when the test ends; it
// fails the test if the cluster cannot start.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	begin := time.Now()
	c, err := Start(opts)
	if err != nil {
		t.Fatalf("start Patroni cluster: %v", err)
	}
	t.Logf("Patroni cluster %s (%d members) started in %s", c.Name, len(c.members), time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			c.LogTails(t)
		}
		if err := c.Close(); err != nil {
			t.Errorf("close Patroni cluster: %v", err)
		}
	})
	return c
}

// LogTails shows the end of etcd's and every member's log, to explain a
// failed test before the logs are removed.
func (c *Cluster) LogTails(t testing.TB) {
	t.Helper()
	t.Logf("last lines of etcd's log:\n%s", tail(c.etcd.log, 0))
	for _, m := range c.members {
		t.Logf("last lines of %s's log:\n%s", m.Name(), tail(m.LogFile, 0))
	}
}

// Members returns the members in Seq order.
func (c *Cluster) Members() []*Member { return append([]*Member(nil), c.members...) }

// Member returns the member called name (<cluster>-<seq>), or nil.
func (c *Cluster) Member(name string) *Member {
	for _, m := range c.members {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

// Close stops every member (replicas first, so that stopping the leader
// does not hand leadership around), then etcd, and removes the cluster's
// directory. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		leader, _ := c.leaderName(context.Background())
		errs := make([]error, len(c.members), len(c.members)+4)
		var wg sync.WaitGroup
		var last *Member
		for i, m := range c.members {
			if m.Name() == leader {
				last = m
				continue
			}
			wg.Go(func() { errs[i] = m.StopPatroni() })
		}
		wg.Wait()
		if last != nil {
			errs = append(errs, last.StopPatroni())
		}
		errs = append(errs, c.stopEtcd())
		if err := runas.WaitNoProcessesIn(c.baseDir, true, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(c.baseDir); err != nil {
			errs = append(errs, fmt.Errorf("remove cluster directory: %w", err))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// tail returns at most the last 40 lines of a log after offset.
func tail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b[offset:]), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}
