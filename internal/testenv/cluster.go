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

	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
	"github.com/pgreconciler/pgreconciler/internal/testenv/testpki"
)

// staleDirPrefix names every cluster directory, so that the next
// runas.Account.NewDir finds what killed test binaries left.
const staleDirPrefix = "pgreconciler-testenv-"

// Options describe the cluster to start. The zero value is a usable default.
type Options struct {
	Name      string            // cluster name, default "pg-test"
	Replicas  int               // streaming replicas: 0 means the default 1, negative means none
	BaseIP    int               // last octet of the primary's 127.0.0.X, default 1; replicas follow
	ExtraConf map[string]string // extra postgresql.conf settings (cannot change addresses or port)
	Args      []string          // extra postmaster arguments, e.g. "--work-mem=8MB" as Patroni passes them
	Major     int               // PostgreSQL major version; 0 means Major() ($PGRECONCILER_PG_VERSION, else 18)
	// NoDataChecksums initialises the primary without data checksums
	// (initdb --no-data-checksums on 18, where they are on by default),
	// for a test that needs a server without them.
	NoDataChecksums bool
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

	SystemRoles
	PostgresPassword string // the bootstrap superuser postgres
	CACertFile       string // the CA of the servers' certificate, usable as sslrootcert

	binDir    string
	acct      runas.Account
	baseDir   string
	certFile  string
	keyFile   string
	extraConf map[string]string
	args      []string   // extra postmaster arguments
	checksums bool       // initdb --data-checksums
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
	acct, err := runas.Lookup()
	if err != nil {
		return nil, err
	}
	if err := acct.CanReach(filepath.Join(bins.dir, "postgres")); err != nil {
		return nil, fmt.Errorf("check PostgreSQL %d programs: %w", opts.Major, err)
	}
	// The sockets live in the cluster directory: it must be short.
	base, err := acct.NewDir(staleDirPrefix, opts.Name)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Name:             opts.Name,
		SystemRoles:      NewSystemRoles(),
		Major:            bins.major,
		Version:          bins.version,
		PostgresPassword: rand.Text(),
		binDir:           bins.dir,
		acct:             acct,
		baseDir:          base,
		extraConf:        opts.ExtraConf,
		args:             opts.Args,
		checksums:        !opts.NoDataChecksums,
	}
	if err := c.start(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("start cluster %s: %w", opts.Name, err), c.Close())
	}
	return c, nil
}

func (c *Cluster) start(opts Options) error {
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

// writeTLS writes the cluster's PKI under the cluster directory: the
// servers' certificate for 127.0.0.1-9 and every server address, signed by
// a throwaway CA (CACertFile).
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
	f, err := testpki.Write(c.baseDir, c.acct, ips)
	if err != nil {
		return err
	}
	c.certFile, c.keyFile, c.CACertFile = f.Cert, f.Key, f.CA
	return nil
}
