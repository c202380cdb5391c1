package hba

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// pgServer is a throwaway PostgreSQL 15 with SSL on, listening on
// 127.0.0.1 and a Unix socket, trust for everything in its initial
// pg_hba.conf. Its data directory lives in the test's temp dir.
type pgServer struct {
	bin, data, sock string
	port            int
	owner           *syscall.Credential // the postgres OS user when the test runs as root
	conn            *pgx.Conn           // superuser, over the socket
	hbaFile         string
}

// pgBinDir is where Debian's postgresql-15 installs its binaries;
// PGRECONCILER_PG15_BINDIR overrides it.
func pgBinDir() string {
	if d := os.Getenv("PGRECONCILER_PG15_BINDIR"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

func startPG(t *testing.T) *pgServer {
	t.Helper()
	s := &pgServer{bin: pgBinDir()}
	if _, err := os.Stat(filepath.Join(s.bin, "initdb")); err != nil {
		t.Skipf("PostgreSQL 15 not installed (%v); set PGRECONCILER_PG15_BINDIR", err)
	}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // both 0700: let the postgres user in
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.owner = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	home := filepath.Join(base, "pg")
	s.data, s.sock = filepath.Join(home, "data"), filepath.Join(home, "sock")
	for _, d := range []string{home, s.sock} {
		s.mkdirOwned(t, d)
	}
	s.run(t, home, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	s.writeCert(t)
	s.port = freePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off", s.port, s.sock)
	s.run(t, home, "pg_ctl", "-D", s.data, "-l", filepath.Join(home, "log"), "-w", "-s", "start", "-o", opts)
	t.Cleanup(func() {
		cmd := s.cmd(home, "pg_ctl", "-D", s.data, "-w", "-s", "stop", "-m", "immediate")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stop postgres: %v: %s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.connString("user=postgres dbname=postgres sslmode=disable"))
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	s.conn = conn
	if err := conn.QueryRow(ctx, "SHOW hba_file").Scan(&s.hbaFile); err != nil {
		t.Fatal(err)
	}
	return s
}

// connString addresses the server over its Unix socket; extra overrides.
func (s *pgServer) connString(extra string) string {
	return fmt.Sprintf("host=%s port=%d connect_timeout=5 %s", s.sock, s.port, extra)
}

func (s *pgServer) cmd(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = dir
	if s.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.owner}
	}
	return cmd
}

func (s *pgServer) run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	if out, err := s.cmd(dir, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}

func (s *pgServer) mkdirOwned(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s.chown(t, dir)
}

func (s *pgServer) chown(t *testing.T, path string) {
	t.Helper()
	if s.owner == nil {
		return
	}
	if err := os.Chown(path, int(s.owner.Uid), int(s.owner.Gid)); err != nil {
		t.Fatal(err)
	}
}

// writeCert gives the server a self-signed certificate so that ssl=on
// works and hostssl lines are not error rows.
func (s *pgServer) writeCert(t *testing.T) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"server.crt": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		path := filepath.Join(s.data, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		s.chown(t, path)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeHBA replaces the server's pg_hba.conf (no reload) and returns what
// pg_hba_file_rules then shows: the view re-reads the file on every query.
func (s *pgServer) writeHBA(t *testing.T, text string) []model.HBARow {
	t.Helper()
	if err := os.WriteFile(s.hbaFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rows, err := s.conn.Query(context.Background(), `
SELECT line_number, coalesce(type, ''), coalesce(database, '{}'), coalesce(user_name, '{}'),
       coalesce(address, ''), coalesce(netmask, ''), coalesce(auth_method, ''),
       coalesce(options, '{}'), coalesce(error, '')
FROM pg_hba_file_rules ORDER BY line_number`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.HBARow, error) {
		var h model.HBARow
		err := r.Scan(&h.Line, &h.Type, &h.Database, &h.User, &h.Address, &h.Netmask, &h.AuthMethod, &h.Options, &h.Error)
		return h, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reloadHBA writes text, reloads, and waits until probe (a connection
// string that the new rules treat differently from the old) behaves as
// the new rules say.
func (s *pgServer) reloadHBA(t *testing.T, text string, probe string, probeOK bool) {
	t.Helper()
	for _, r := range s.writeHBA(t, text) {
		if e := RowError(r); e != "" {
			t.Fatalf("refusing to reload a file with errors: line %d: %s", r.Line, e)
		}
	}
	if _, err := s.conn.Exec(context.Background(), "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s.tryConnect(probe) == nil == probeOK {
			return
		}
	}
	t.Fatal("reloaded pg_hba.conf did not take effect")
}

// tryConnect opens and closes a connection (pgconn: a replication
// connection cannot run pgx's queries).
func (s *pgServer) tryConnect(connString string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgconn.Connect(ctx, connString)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}
