package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgbouncer"
)

// runRenderPgBouncer prints the files Pigsty renders for an instance's
// PgBouncer. A verifier is a credential: on stdout userlist.txt is always
// redacted; --out writes the real file, 0600.
func runRenderPgBouncer(e *env, args []string) int {
	fs := newFlags(e, "render pgbouncer", "render pgbouncer --repo DIR --instance NAME [--file userlist|useropts|database|hba] [--out FILE]\n"+
		"   (print the PgBouncer files an instance must have; userlist.txt's verifiers only into a 0600 file with --out)")
	repo := fs.String("repo", ".", "spec repository `dir`ectory")
	instance := fs.String("instance", "", "instance `name` (<cluster>-<seq>) or IP")
	file := fs.String("file", "", "print only this file: userlist, useropts, database or hba")
	out := fs.String("out", "", "write the file given by --file to this `path` (mode 0600) instead of printing it")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	const cmd = "render pgbouncer"
	var only *pgbouncer.File
	if *file != "" {
		f, err := pgbouncer.ParseFile(*file)
		if err != nil {
			return usagef(e, cmd, "--file: %v", err)
		}
		only = &f
	}
	if *out != "" && only == nil {
		return usagef(e, cmd, "--out needs --file: it writes one file")
	}
	c, in, code := loadInstance(e, cmd, *repo, *instance)
	if in == nil {
		return code
	}
	files, err := pgbouncer.Render(c, in, pgbouncer.Inputs{Rand: rand.Reader})
	if err != nil {
		return errorf(e, "render", "%v", err)
	}
	if only == nil || *only == pgbouncer.Userlist {
		noteUserlist(e, files.Userlist, *out != "")
	}
	if *out != "" {
		text, err := fileText(files, *only)
		if err != nil {
			return errorf(e, "render", "%v; nothing written", err)
		}
		if err := writePrivate(*out, text); err != nil {
			return errorf(e, "render", "%v", err)
		}
		fmt.Fprintf(e.stderr, "wrote %s of %s to %s (mode 0600)\n", only.Base(), in.Name(), *out)
		return exitOK
	}
	for i, f := range pgbouncer.AllFiles {
		if only != nil && f != *only {
			continue
		}
		if only == nil {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "==> %s <==\n", f.Path())
		}
		if f == pgbouncer.Userlist {
			fmt.Fprint(e.stdout, files.Userlist.Redacted())
			continue
		}
		text, _ := fileText(files, f)
		fmt.Fprint(e.stdout, text.Reveal())
	}
	return exitOK
}

// fileText is one rendered file's content (a Secret for userlist.txt's
// sake; the others hold no secret).
func fileText(f *pgbouncer.Files, which pgbouncer.File) (model.Secret, error) {
	switch which {
	case pgbouncer.Userlist:
		return f.Userlist.Text()
	case pgbouncer.Useropts:
		return model.NewSecret(f.Useropts), nil
	case pgbouncer.Database:
		return model.NewSecret(f.Database), nil
	}
	return model.NewSecret(f.HBA.Text), nil
}

// noteUserlist says on stderr what render cannot know offline: verifiers
// it hashed now from plaintext passwords (apply copies the primary's
// instead) and the ones only the primary knows.
func noteUserlist(e *env, u pgbouncer.UserlistFile, writing bool) {
	var fresh []string
	for _, en := range u.Entries {
		if en.Source == pgbouncer.FromFresh {
			fresh = append(fresh, en.Name)
		}
	}
	if len(fresh) > 0 {
		fmt.Fprintf(e.stderr, "note: userlist.txt: the verifiers of %s were hashed now, with a fresh salt, from the spec's plaintext passwords; "+
			"apply copies the primary's stored verifiers instead (PgBouncer can log in to PostgreSQL only with the server's own)\n",
			strings.Join(fresh, ", "))
	}
	if unknown := u.Unknown(); len(unknown) > 0 && !writing {
		fmt.Fprintf(e.stderr, "note: userlist.txt: %s have no password in the spec; Pigsty copies their verifiers from pg_authid on the primary (shown as <pg_authid>)\n",
			strings.Join(unknown, ", "))
	}
	if !writing {
		fmt.Fprintln(e.stderr, "note: userlist.txt is shown with its verifiers redacted; --file userlist --out FILE writes them (mode 0600)")
	}
}

// writePrivate replaces path atomically with a file of mode 0600: a
// temporary file beside it (created 0600, so the content is never
// readable by others), synced, renamed over path.
func writePrivate(path string, content model.Secret) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.WriteString(content.Reveal()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename over %s: %w", path, err)
	}
	return nil
}
