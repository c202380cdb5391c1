package source

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"time"
)

// SpecFS is the spec tree of one commit, held in memory: a read-only fs.FS
// that also implements fs.ReadDirFS, fs.ReadFileFS and fs.StatFS. Names are
// relative to the spec root ("." is the root). Every file's ModTime is the
// commit's committer time. It never touches a work tree or the repository
// after it is built, and it is safe for concurrent use.
type SpecFS struct {
	commit string // full hash of the commit it was read from
	nodes  map[string]*node
}

var (
	_ fs.ReadDirFS  = (*SpecFS)(nil)
	_ fs.ReadFileFS = (*SpecFS)(nil)
	_ fs.StatFS     = (*SpecFS)(nil)
)

// node is a file or directory of a SpecFS. It is its own fs.FileInfo and
// fs.DirEntry.
type node struct {
	name    string
	dir     bool
	exec    bool
	data    []byte
	entries []*node // directories: children in name order
	modTime time.Time
}

// Commit is the full hash of the commit the tree was read from.
func (f *SpecFS) Commit() string { return f.commit }

func (f *SpecFS) lookup(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	n, ok := f.nodes[name]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return n, nil
}

// Open implements fs.FS.
func (f *SpecFS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return &openDir{n: n, path: name}, nil
	}
	return &openFile{n: n, r: bytes.NewReader(n.data)}, nil
}

// ReadFile implements fs.ReadFileFS; the caller owns the returned slice.
func (f *SpecFS) ReadFile(name string) ([]byte, error) {
	n, err := f.lookup("readfile", name)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errIsDir}
	}
	return bytes.Clone(n.data), nil
}

// ReadDir implements fs.ReadDirFS.
func (f *SpecFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	out := make([]fs.DirEntry, len(n.entries))
	for i, e := range n.entries {
		out[i] = e
	}
	return out, nil
}

// Stat implements fs.StatFS.
func (f *SpecFS) Stat(name string) (fs.FileInfo, error) {
	return f.lookup("stat", name)
}

var (
	errIsDir  = errors.New("is a directory")
	errNotDir = errors.New("not a directory")
)

func (n *node) Name() string       { return n.name }
func (n *node) Size() int64        { return int64(len(n.data)) }
func (n *node) ModTime() time.Time { return n.modTime }
func (n *node) IsDir() bool        { return n.dir }
func (n *node) Sys() any           { return nil }
func (n *node) Mode() fs.FileMode {
	switch {
	case n.dir:
		return fs.ModeDir | 0o555
	case n.exec:
		return 0o555
	}
	return 0o444
}
func (n *node) Type() fs.FileMode          { return n.Mode().Type() }
func (n *node) Info() (fs.FileInfo, error) { return n, nil }
func (n *node) String() string             { return fs.FormatDirEntry(n) }

type openFile struct {
	n *node
	r *bytes.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.n, nil }
func (o *openFile) Read(b []byte) (int, error) { return o.r.Read(b) }
func (o *openFile) Seek(off int64, whence int) (int64, error) {
	return o.r.Seek(off, whence)
}
func (o *openFile) ReadAt(b []byte, off int64) (int, error) { return o.r.ReadAt(b, off) }
func (o *openFile) Close() error                            { return nil }

type openDir struct {
	n    *node
	path string
	off  int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.n, nil }
func (d *openDir) Close() error               { return nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errIsDir}
}

// ReadDir implements fs.ReadDirFile.
func (d *openDir) ReadDir(count int) ([]fs.DirEntry, error) {
	rest := d.n.entries[d.off:]
	if count > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if count > 0 && count < len(rest) {
		rest = rest[:count]
	}
	d.off += len(rest)
	out := make([]fs.DirEntry, len(rest))
	for i, e := range rest {
		out[i] = e
	}
	return out, nil
}
