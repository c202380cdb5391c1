package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv/sockdir"
)

// configFiles are the files of a data directory that Reset restores.
func configFiles() []string {
	return []string{"pg_hba.conf", "pg_ident.conf", "postgresql.conf", "postgresql.auto.conf"}
}

// startPrimary initialises the primary, chooses the cluster's port, starts
// the primary and creates the bootstrap roles.
func (c *Cluster) startPrimary() error {
	p := c.Primary
	if err := c.makeInstanceDirs(p); err != nil {
		return err
	}
	args := []string{"-D", p.DataDir, "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"}
	switch {
	case c.checksums:
		args = append(args, "--data-checksums")
	case c.Major >= 18: // on by default from 18
		args = append(args, "--no-data-checksums")
	}
	if _, err := c.run(p.dir, nil, "initdb", args...); err != nil {
		return err
	}
	if err := c.acct.WriteFile(p.HBAPath(), []byte(defaultHBA), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	var addrs []string
	for _, s := range c.Servers() {
		addrs = append(addrs, s.Addr)
	}
	// Another test binary may take the port between the check and the bind:
	// then draw again.
	for attempt := 1; ; attempt++ {
		port, err := FreePort(addrs...)
		if err != nil {
			return err
		}
		c.Port = port
		for _, s := range c.Servers() {
			s.Port = port
		}
		if err := writeConf(c.acct, p.DataDir, c.settings(p)); err != nil {
			return err
		}
		err = p.Start()
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.bootstrap(ctx); err != nil {
		return err
	}
	return p.snapshotFiles()
}

// startReplica creates a replica from a base backup of the primary and
// waits until it streams from it.
func (c *Cluster) startReplica(r *Server) error {
	if err := c.makeInstanceDirs(r); err != nil {
		return err
	}
	line := passfileLine(c.ReplUser, c.ReplPassword)
	if err := c.acct.WriteFile(r.passfile(), []byte(line), 0o600); err != nil {
		return fmt.Errorf("write passfile: %w", err)
	}
	return c.buildReplica(r)
}

func (c *Cluster) makeInstanceDirs(s *Server) error {
	for _, d := range []string{s.dir, s.SocketDir} {
		if err := c.acct.Mkdir(d, 0o700); err != nil {
			return fmt.Errorf("prepare %s: %w", s.Name(), err)
		}
	}
	// Fail clearly instead of with a cryptic bind error (a long cluster name).
	if err := sockdir.Check(filepath.Join(s.SocketDir, ".s.PGSQL.00000")); err != nil {
		return fmt.Errorf("prepare %s: %w; use a shorter cluster name", s.Name(), err)
	}
	return nil
}

// passfile is the libpq password file the replica uses for replication.
func (s *Server) passfile() string { return filepath.Join(s.dir, "pgpass") }

// settings are the harness block of s's postgresql.conf.
func (c *Cluster) settings(s *Server) map[string]string {
	m := baseSettings(c.Name, c.certFile, c.keyFile)
	maps.Copy(m, c.extraConf)
	m["listen_addresses"] = s.Addr
	m["port"] = strconv.Itoa(s.Port)
	m["unix_socket_directories"] = s.SocketDir
	if !s.Primary {
		m["primary_conninfo"] = connString([][2]string{
			{"host", c.Primary.Addr},
			{"port", strconv.Itoa(c.Port)},
			{"user", c.ReplUser},
			{"passfile", s.passfile()},
			{"application_name", s.Name()},
			{"sslmode", "require"},
		})
	}
	return m
}

// run runs a PostgreSQL program as the server user and returns its output.
func (c *Cluster) run(dir string, env []string, program string, args ...string) ([]byte, error) {
	cmd := c.acct.Command(dir, 0, filepath.Join(c.binDir, program), args...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("run %s: %w: %s", program, err, bytes.TrimSpace(out))
	}
	return out, nil
}

// bootstrap creates Pigsty's system roles with SCRAM passwords and records
// the bootstrap state Reset returns to.
func (c *Cluster) bootstrap(ctx context.Context) error {
	conn, err := c.Primary.connectAs(ctx, c.Primary.socketConnString("postgres"), true)
	if err != nil {
		return fmt.Errorf("connect for bootstrap: %w", err)
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		"CREATE ROLE dbuser_dba SUPERUSER LOGIN",
		"CREATE ROLE replicator REPLICATION LOGIN",
		"CREATE ROLE dbuser_monitor LOGIN IN ROLE pg_monitor",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create bootstrap role: %w", err)
		}
	}
	for role, pw := range c.passwords() {
		sql := "ALTER ROLE " + pgx.Identifier{role}.Sanitize() + " PASSWORD " + quoteLiteral(pw)
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("set password of %s: %w", role, err)
		}
	}
	c.boot, err = readBootState(ctx, conn, c.Major)
	return err
}

// passwords are the bootstrap roles' passwords.
func (c *Cluster) passwords() map[string]string {
	return map[string]string{
		"postgres":    c.PostgresPassword,
		c.SuperUser:   c.SuperPassword,
		c.ReplUser:    c.ReplPassword,
		c.MonitorUser: c.MonitorPassword,
	}
}

// waitStreaming waits until the primary reports r as streaming.
func (c *Cluster) waitStreaming(ctx context.Context, r *Server) error {
	conn, err := c.Primary.admin(ctx, "postgres", true)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_replication
			WHERE application_name = $1 AND state = 'streaming')`, r.Name()).Scan(&ok)
		if err != nil {
			return fmt.Errorf("wait for %s to stream: %w", r.Name(), err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to stream: %w", r.Name(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// snapshotFiles records the configuration files as set up.
func (s *Server) snapshotFiles() error {
	s.pristine = map[string][]byte{}
	for _, name := range configFiles() {
		b, err := os.ReadFile(filepath.Join(s.DataDir, name))
		if err != nil {
			return fmt.Errorf("snapshot %s of %s: %w", name, s.Name(), err)
		}
		s.pristine[name] = b
	}
	return nil
}

// restoreFiles puts back every configuration file that differs from the
// snapshot (ALTER SYSTEM RESET ALL is restoring postgresql.auto.conf).
func (s *Server) restoreFiles() error {
	for name, want := range s.pristine {
		path := filepath.Join(s.DataDir, name)
		got, err := os.ReadFile(path)
		if err == nil && bytes.Equal(got, want) {
			continue
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read %s of %s: %w", name, s.Name(), err)
		}
		if err := s.cl.acct.WriteFile(path, want, 0o600); err != nil {
			return fmt.Errorf("restore %s of %s: %w", name, s.Name(), err)
		}
	}
	return nil
}
