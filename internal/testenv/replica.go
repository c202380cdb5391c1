package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// buildReplica fills r's (absent) data directory from the primary, starts
// it and waits until it streams.
func (c *Cluster) buildReplica(r *Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.baseBackup(ctx, r.DataDir); err != nil {
		return fmt.Errorf("build %s: %w", r.Name(), err)
	}
	if err := writeConf(c.acct, r.DataDir, c.settings(r)); err != nil {
		return err
	}
	if err := c.acct.WriteFile(filepath.Join(r.DataDir, "standby.signal"), nil, 0o600); err != nil {
		return fmt.Errorf("write standby.signal: %w", err)
	}
	if err := r.Start(); err != nil {
		return err
	}
	if err := c.waitStreaming(ctx, r); err != nil {
		return fmt.Errorf("%w\n%s", err, r.logSince(0))
	}
	return r.snapshotFiles()
}

// baseBackup copies the running primary into dir with PostgreSQL's
// low-level backup API, as pg_basebackup would (the npm builds have no
// pg_basebackup): pg_backup_start (pg_start_backup before 15), a copy of
// the files, pg_backup_stop, whose label goes into backup_label. The
// replica then streams the WAL from the backup's start on (wal_keep_size
// keeps it; full-page writes are forced during a backup).
func (c *Cluster) baseBackup(ctx context.Context, dir string) error {
	conn, err := c.Primary.admin(ctx, "postgres", true)
	if err != nil {
		return fmt.Errorf("base backup: %w", err)
	}
	defer conn.Close(context.Background())
	start := "SELECT pg_catalog.pg_backup_start($1, true)"
	stop := "SELECT labelfile, coalesce(spcmapfile, '') FROM pg_catalog.pg_backup_stop(false)"
	if c.Major < 15 {
		start = "SELECT pg_catalog.pg_start_backup($1, true, false)"
		stop = "SELECT labelfile, coalesce(spcmapfile, '') FROM pg_catalog.pg_stop_backup(false, false)"
	}
	if _, err := conn.Exec(ctx, start, "pgreconciler testenv "+filepath.Base(filepath.Dir(dir))); err != nil {
		return fmt.Errorf("base backup: start: %w", err)
	}
	copyErr := c.copyDataDir(c.Primary.DataDir, dir)
	var label, spcmap string // the backup must end, copied or not
	if err := conn.QueryRow(ctx, stop).Scan(&label, &spcmap); err != nil {
		return fmt.Errorf("base backup: stop: %w", errors.Join(copyErr, err))
	}
	if copyErr != nil {
		return fmt.Errorf("base backup: %w", copyErr)
	}
	if err := c.acct.WriteFile(filepath.Join(dir, "backup_label"), []byte(label), 0o600); err != nil {
		return fmt.Errorf("base backup: write backup_label: %w", err)
	}
	if spcmap != "" {
		if err := c.acct.WriteFile(filepath.Join(dir, "tablespace_map"), []byte(spcmap), 0o600); err != nil {
			return fmt.Errorf("base backup: write tablespace_map: %w", err)
		}
	}
	return nil
}

// Parts of a data directory a base backup leaves out (PostgreSQL's
// basebackup.c, excludeDirContents and excludeFiles): they are rebuilt at
// startup or belong to the running server.
func emptiedDirs() []string {
	return []string{"pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"}
}

func skippedFiles() []string {
	return []string{"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_manifest",
		"current_logfiles", "current_logfiles.tmp", "postgresql.auto.conf.tmp", "standby.signal", "recovery.signal"}
}

// skipped reports whether the entry at rel (relative to the data
// directory) is left out of the copy: temporary files and relation caches
// anywhere, the harness's own half-written files, the files above at the
// top.
func skipped(rel, name string) bool {
	if strings.HasPrefix(name, "pgsql_tmp") || name == "pg_internal.init" || strings.HasSuffix(name, ".testenv-tmp") {
		return true
	}
	if !strings.Contains(rel, string(filepath.Separator)) {
		for _, f := range skippedFiles() {
			if rel == f {
				return true
			}
		}
	}
	return false
}

// copyDataDir copies the data directory src, which a running server
// changes meanwhile, to dst (absent), owned by the server account: the
// directories, with the ones above left empty and pg_wal holding only its
// subdirectories (archive_status, summaries); every regular file but the
// skipped ones. A file that disappears during the copy is no loss (WAL
// replay recreates what matters); anything but a file or a directory
// (a tablespace link) is refused.
func (c *Cluster) copyDataDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != src && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("copy data directory: %w", err)
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return fmt.Errorf("copy data directory: %w", err)
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if rel != "." && skipped(rel, d.Name()) {
				return fs.SkipDir
			}
			if err := c.acct.Mkdir(target, 0o700); err != nil {
				return fmt.Errorf("copy data directory: %w", err)
			}
			for _, e := range emptiedDirs() {
				if rel == e {
					return fs.SkipDir
				}
			}
			if rel == "pg_wal" {
				return c.copyWALDirs(path, target)
			}
			return nil
		case d.Type().IsRegular():
			if skipped(rel, d.Name()) {
				return nil
			}
			return c.copyFile(path, target)
		default:
			return fmt.Errorf("copy data directory: %s is neither a file nor a directory (the harness makes no tablespaces)", rel)
		}
	})
}

// copyWALDirs creates the subdirectories of pg_wal in target and skips its
// files: the replica streams the WAL it needs.
func (c *Cluster) copyWALDirs(src, target string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy data directory: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := c.acct.Mkdir(filepath.Join(target, e.Name()), 0o700); err != nil {
				return fmt.Errorf("copy data directory: %w", err)
			}
		}
	}
	return fs.SkipDir
}

// copyFile copies one file (mode 0600, owned by the account); one that is
// gone by now is skipped.
func (c *Cluster) copyFile(src, dst string) error {
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy data directory: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("copy data directory: %w", err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.acct.Own(dst, 0o600)
	}
	if err != nil {
		return fmt.Errorf("copy data directory: %s: %w", src, err)
	}
	return nil
}
