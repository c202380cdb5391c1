package testenv

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// Options describe the cluster to start. The zero value is a usable default.
type Options struct {
	Name      string            // cluster name, default "pg-test"
	Replicas  int               // streaming replicas: 0 means the default 1, negative means none
	BaseIP    int               // last octet of the primary's 127.0.0.X, default 1; replicas follow
	ExtraConf map[string]string // extra postgresql.conf settings (cannot change addresses or port)
	Args      []string          // extra postmaster arguments, e.g. "--work-mem=8MB" as Patroni passes them
	Major     int               // PostgreSQL major version; 0 means Major() ($PGRECONCILER_PG_VERSION, else 18)
}

func (o Options) withDefaults() (Options, error) {
	if o.Name == "" {
		o.Name = "pg-test"
	}
	switch {
	case o.Replicas == 0:
		o.Replicas = 1
	case o.Replicas < 0:
		o.Replicas = 0
	}
	if o.BaseIP == 0 {
		o.BaseIP = 1
	}
	if o.Major == 0 {
		m, err := Major()
		if err != nil {
			return o, err
		}
		o.Major = m
	} else if _, err := parseMajor("options", strconv.Itoa(o.Major)); err != nil {
		return o, err
	}
	if o.BaseIP < 1 || o.BaseIP+o.Replicas > 254 {
		return o, fmt.Errorf("check options: addresses 127.0.0.%d to 127.0.0.%d are not usable", o.BaseIP, o.BaseIP+o.Replicas)
	}
	if strings.ContainsAny(o.Name, "/ '\\") {
		return o, fmt.Errorf("check options: cluster name %q must not contain '/', quotes or spaces", o.Name)
	}
	return o, nil
}

// Cluster is a running primary with its streaming replicas.
type Cluster struct {
	Name     string
	Port     int    // shared by every server, each on its own address
	Major    int    // PostgreSQL major version: 13 … 18
	Version  string // the full version postgres reports, e.g. "18.4"
	Primary  *Server
	Replicas []*Server

	SuperUser, SuperPassword     string // dbuser_dba: SUPERUSER LOGIN
	ReplUser, ReplPassword       string // replicator: REPLICATION LOGIN
	MonitorUser, MonitorPassword string // dbuser_monitor: LOGIN, member of pg_monitor
	PostgresPassword             string // the bootstrap superuser postgres
	CACertFile                   string // the servers' self-signed certificate, usable as sslrootcert

	binDir    string
	acct      account
	baseDir   string
	certFile  string
	keyFile   string
	extraConf map[string]string
	args      []string   // extra postmaster arguments
	boot      *bootState // bootstrap state, restored by Reset

	closeOnce sync.Once
	closeErr  error
}

// StartCluster starts a primary and its replicas and waits until every
// replica streams. Call Close when done (TestMain), or use NewCluster.
func StartCluster(opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	bins, err := findBinaries(opts.Major)
	if err != nil {
		return nil, err
	}
	acct, err := lookupAccount()
	if err != nil {
		return nil, err
	}
	if err := acct.canReach(filepath.Join(bins.dir, "postgres")); err != nil {
		return nil, fmt.Errorf("check PostgreSQL %d programs: %w", opts.Major, err)
	}
	for _, tmp := range sockdir.Parents() {
		sweepStale(tmp)
	}
	// The sockets live in the cluster directory: it must be short.
	base, err := sockdir.New(staleDirPrefix + opts.Name + "-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c := &Cluster{
		Name:             opts.Name,
		Major:            bins.major,
		Version:          bins.version,
		SuperUser:        "dbuser_dba",
		SuperPassword:    rand.Text(),
		ReplUser:         "replicator",
		ReplPassword:     rand.Text(),
		MonitorUser:      "dbuser_monitor",
		MonitorPassword:  rand.Text(),
		PostgresPassword: rand.Text(),
		binDir:           bins.dir,
		acct:             acct,
		baseDir:          base,
		extraConf:        opts.ExtraConf,
		args:             opts.Args,
	}
	if err := c.start(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("start cluster %s: %w", opts.Name, err), c.Close())
	}
	return c, nil
}

func (c *Cluster) start(opts Options) error {
	if err := os.Chmod(c.baseDir, 0o755); err != nil { // the server user must traverse it
		return fmt.Errorf("chmod cluster directory: %w", err)
	}
	if err := c.acct.canReach(c.baseDir); err != nil {
		return fmt.Errorf("cluster directory: %w; set TMPDIR to a directory it can reach", err)
	}
	if err := markOwner(c.baseDir); err != nil {
		return err
	}
	for seq := 1; seq <= opts.Replicas+1; seq++ {
		s := &Server{
			Cluster: c.Name,
			Seq:     seq,
			Addr:    "127.0.0." + strconv.Itoa(opts.BaseIP+seq-1),
			Primary: seq == 1,
			cl:      c,
		}
		s.dir = filepath.Join(c.baseDir, s.Name())
		s.DataDir = filepath.Join(s.dir, "data")
		s.SocketDir = filepath.Join(s.dir, "socket")
		s.LogFile = filepath.Join(s.dir, "postgres.log")
		if seq == 1 {
			c.Primary = s
		} else {
			c.Replicas = append(c.Replicas, s)
		}
	}
	if err := c.writeTLS(); err != nil {
		return err
	}
	if err := c.startPrimary(); err != nil {
		return err
	}
	for _, r := range c.Replicas {
		if err := c.startReplica(r); err != nil {
			return err
		}
	}
	return nil
}

// NewCluster starts a cluster for one test and closes it when the test
// ends; it fails the test if the cluster cannot start.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	start := time.Now()
	c, err := StartCluster(opts)
	if err != nil {
		t.Fatalf("start test cluster: %v", err)
	}
	t.Logf("test cluster %s (PostgreSQL %s) started on port %d in %s", c.Name, c.Version, c.Port, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			c.logTails(t)
		}
		if err := c.Close(); err != nil {
			t.Errorf("close test cluster: %v", err)
		}
	})
	return c
}

// logTails shows the end of every server log, to explain a failed test
// before the logs are removed.
func (c *Cluster) logTails(t testing.TB) {
	t.Helper()
	for _, s := range c.Servers() {
		t.Logf("last lines of %s's log:\n%s", s.Name(), s.logSince(0))
	}
}

// Servers returns the primary followed by the replicas.
func (c *Cluster) Servers() []*Server {
	var all []*Server
	if c.Primary != nil {
		all = append(all, c.Primary)
	}
	return append(all, c.Replicas...)
}

// Close stops every server and removes the cluster's directories. It is
// safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		servers := c.Servers()
		for i := len(servers) - 1; i >= 0; i-- { // replicas first
			errs = append(errs, servers[i].Stop())
		}
		if err := waitNoProcessesIn(c.baseDir, true, 10*time.Second); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(c.baseDir); err != nil {
			errs = append(errs, fmt.Errorf("remove cluster directory: %w", err))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// writeTLS writes the cluster's certificate (readable by all) and key
// (0600, owned by the server user) under the cluster directory.
func (c *Cluster) writeTLS() error {
	var ips []net.IP
	for i := 1; i <= 9; i++ {
		ips = append(ips, net.IPv4(127, 0, 0, byte(i)))
	}
	for _, s := range c.Servers() {
		if ip := net.ParseIP(s.Addr).To4(); ip[3] > 9 {
			ips = append(ips, ip)
		}
	}
	certPEM, keyPEM, err := selfSignedCert(ips)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.baseDir, "tls")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create TLS directory: %w", err)
	}
	c.certFile = filepath.Join(dir, "server.crt")
	c.keyFile = filepath.Join(dir, "server.key")
	if err := os.WriteFile(c.certFile, certPEM, 0o644); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	if err := c.acct.writeFile(c.keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("write TLS key: %w", err)
	}
	c.CACertFile = c.certFile
	return nil
}
