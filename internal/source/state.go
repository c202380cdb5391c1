package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// State is what the state directory remembers about one source: the last
// commit that was applied successfully. It is written only after a
// successful apply.
type State struct {
	Source    string    `json:"source"`
	Commit    string    `json:"commit"`           // full hash of the last applied commit
	Signer    string    `json:"signer,omitempty"` // its signer's key fingerprint, for the audit trail
	AppliedAt time.Time `json:"applied_at"`
}

const stateVersion = 1

type stateFile struct {
	Version int `json:"version"`
	State
}

func statePath(dir, source string) string { return filepath.Join(dir, source+".state.json") }

// maxStateFile bounds what is read of a file in the state directory; the
// files written there are far smaller, so a larger one is corrupt.
const maxStateFile = 1 << 20

// LoadState reads the state of source from dir. A missing file is the zero
// State (Commit == ""): the next check is a first contact. A file that
// exists but cannot be read or parsed is an error, never "no state".
func LoadState(dir, source string) (State, error) {
	if err := checkName(source); err != nil {
		return State{}, fmt.Errorf("load state: %w", err)
	}
	p := statePath(dir, source)
	var f stateFile
	found, err := readStateFile(p, &f)
	if err != nil {
		return State{}, fmt.Errorf("load state: %w", err)
	}
	if !found {
		return State{}, nil
	}
	switch {
	case f.Version != stateVersion:
		return State{}, fmt.Errorf("load state %s: unsupported version %d", p, f.Version)
	case f.Source != source:
		return State{}, fmt.Errorf("load state %s: corrupt: it is for source %q", p, f.Source)
	case !validHash(f.Commit):
		return State{}, fmt.Errorf("load state %s: corrupt: commit %q is not a full hash", p, f.Commit)
	}
	return f.State, nil
}

// SaveState writes st atomically into dir: a temporary file, fsync, rename
// over the old state, fsync of the directory. Call it only after a
// successful apply.
func SaveState(dir string, st State) error {
	if err := checkName(st.Source); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if !validHash(st.Commit) {
		return fmt.Errorf("save state: commit %q is not a full hash", st.Commit)
	}
	if err := writeStateFile(dir, statePath(dir, st.Source), stateFile{Version: stateVersion, State: st}); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// readStateFile decodes the JSON file p into v, strictly: unknown fields,
// trailing data and a file over maxStateFile are corrupt. A missing file is
// (false, nil).
func readStateFile(p string, v any) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return false, err
	}
	if len(b) > maxStateFile {
		return false, fmt.Errorf("%s: corrupt: larger than %d bytes", p, maxStateFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("%s: corrupt: %w", p, err)
	}
	if dec.More() {
		return false, fmt.Errorf("%s: corrupt: trailing data", p)
	}
	return true, nil
}

// writeStateFile writes v as JSON to p (inside dir) atomically: a
// temporary file, fsync, rename over the old file, fsync of the directory.
func writeStateFile(dir, p string, v any) (err error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	removeStaleTemps(dir, "."+filepath.Base(p)+"-*")
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	return syncDir(dir)
}

// staleTempAge is the age from which a temporary state file is the
// leftover of a process killed while it wrote it.
const staleTempAge = time.Minute

// removeStaleTemps removes the temporary files of earlier writes of one
// state file (pattern, in dir) older than staleTempAge, which a kill
// during the write left; errors are ignored, a leftover harms nothing.
func removeStaleTemps(dir, pattern string) {
	names, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, n := range names {
		if st, err := os.Lstat(n); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > staleTempAge {
			_ = os.Remove(n)
		}
	}
}

// removeStateFile removes p (inside dir) durably; a missing file is no
// error.
func removeStateFile(dir, p string) error {
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// validHash accepts a full lower-case SHA-1 or SHA-256 object name.
func validHash(h string) bool { return (len(h) == 40 || len(h) == 64) && isHex(h) }

// checkName accepts a source name usable as a file name: letters, digits,
// '.', '_' and '-', not starting with '.' or '-', at most 100 bytes.
func checkName(name string) error {
	if name == "" || len(name) > 100 || name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("invalid source name %q", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("invalid source name %q", name)
		}
	}
	return nil
}
