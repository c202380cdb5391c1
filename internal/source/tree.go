package source

import (
	"cmp"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Limits bound the spec tree read from a commit. Zero fields take the
// defaults.
type Limits struct {
	MaxFileSize  int64 // bytes per file; default 4 MiB
	MaxFiles     int   // entries (files and directories together); default 10,000
	MaxTotalSize int64 // bytes of all files together; default 64 MiB
}

// Default limits.
const (
	DefaultMaxFileSize  = 4 << 20
	DefaultMaxFiles     = 10_000
	DefaultMaxTotalSize = 64 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
}

// treeReader reads the spec tree of one commit from the object database.
type treeReader struct {
	st     storer.EncodedObjectStorer
	commit *object.Commit
	lim    Limits
	fs     *SpecFS
	count  int
	total  int64
}

// readTree reads the subtree root ("" for the whole tree) of commit c into
// a SpecFS, straight from the object database. It refuses symlinks,
// submodules, any other non-regular mode and names that are not plain path
// elements, and enforces lim; sizes are checked from object headers before
// a blob is read. A missing or empty spec root is a refusal, never an empty
// tree.
func readTree(st storer.EncodedObjectStorer, c *object.Commit, root string, lim Limits) (*SpecFS, error) {
	r := &treeReader{st: st, commit: c, lim: lim.withDefaults(),
		fs: &SpecFS{commit: c.Hash.String(), nodes: map[string]*node{}}}
	tree, err := c.Tree()
	if err != nil {
		return nil, r.fail(root, err)
	}
	if root != "" {
		if tree, err = r.descend(tree, root); err != nil {
			return nil, err
		}
	}
	top := &node{name: ".", dir: true, modTime: c.Committer.When}
	r.fs.nodes["."] = top
	if err := r.walk(tree, root, "", top); err != nil {
		return nil, err
	}
	if len(top.entries) == 0 {
		// Like a failed fetch, an empty tree must not read as "no clusters".
		return nil, r.refuse(cmp.Or(root, "."), "spec tree is empty")
	}
	return r.fs, nil
}

// descend follows root from the top tree, refusing a symlink on the way.
func (r *treeReader) descend(tree *object.Tree, root string) (*object.Tree, error) {
	var at string
	for _, elem := range strings.Split(root, "/") {
		at = path.Join(at, elem)
		e := findEntry(tree, elem)
		switch {
		case e == nil:
			return nil, r.refuse(at, "spec root does not exist in this commit")
		case e.Mode == filemode.Symlink:
			return nil, r.refuse(at, "spec root passes through a symlink (mode 120000)")
		case e.Mode != filemode.Dir:
			return nil, r.refuse(at, fmt.Sprintf("spec root is not a directory (mode %o)", uint32(e.Mode)))
		}
		sub, err := object.GetTree(r.st, e.Hash)
		if err != nil {
			return nil, r.fail(at, err)
		}
		tree = sub
	}
	return tree, nil
}

func findEntry(t *object.Tree, name string) *object.TreeEntry {
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			return &t.Entries[i]
		}
	}
	return nil
}

// walk reads tree, found at repo path dir and spec path rel, into parent.
func (r *treeReader) walk(tree *object.Tree, dir, rel string, parent *node) error {
	seen := make(map[string]bool, len(tree.Entries))
	for _, e := range tree.Entries {
		repoPath, specPath := path.Join(dir, e.Name), path.Join(rel, e.Name)
		if !validName(e.Name) {
			return r.refuse(path.Join(dir, fmt.Sprintf("%q", e.Name)), "invalid entry name")
		}
		if seen[e.Name] {
			return r.refuse(repoPath, "duplicate entry in tree")
		}
		seen[e.Name] = true
		if r.count++; r.count > r.lim.MaxFiles {
			return r.refuse(repoPath, fmt.Sprintf("spec tree has more than %d entries (files and directories), the limit", r.lim.MaxFiles))
		}
		n := &node{name: e.Name, modTime: parent.modTime}
		switch e.Mode {
		case filemode.Dir:
			sub, err := object.GetTree(r.st, e.Hash)
			if err != nil {
				return r.fail(repoPath, err)
			}
			n.dir = true
			if err := r.walk(sub, repoPath, specPath, n); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			n.exec = e.Mode == filemode.Executable
			data, err := r.readBlob(e, repoPath)
			if err != nil {
				return err
			}
			n.data = data
		case filemode.Symlink:
			return r.refuse(repoPath, "symlink (mode 120000) not allowed in the spec tree")
		case filemode.Submodule:
			return r.refuse(repoPath, "submodule (gitlink, mode 160000) not allowed in the spec tree")
		default:
			return r.refuse(repoPath, fmt.Sprintf("unsupported file mode %o", uint32(e.Mode)))
		}
		parent.entries = append(parent.entries, n)
		r.fs.nodes[specPath] = n
	}
	// Git sorts directories as if named "dir/"; fs.ReadDir wants plain name order.
	sortNodes(parent.entries)
	return nil
}

// readBlob checks the blob's size from its header against the limits, then
// reads it.
func (r *treeReader) readBlob(e object.TreeEntry, repoPath string) ([]byte, error) {
	blob, err := object.GetBlob(r.st, e.Hash)
	if err != nil {
		return nil, r.fail(repoPath, err)
	}
	if blob.Size > r.lim.MaxFileSize {
		return nil, r.refuse(repoPath, fmt.Sprintf("file is %d bytes, over the limit of %d bytes per file", blob.Size, r.lim.MaxFileSize))
	}
	if r.total += blob.Size; r.total > r.lim.MaxTotalSize {
		return nil, r.refuse(repoPath, fmt.Sprintf("spec tree is over the limit of %d bytes in total", r.lim.MaxTotalSize))
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, r.fail(repoPath, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, blob.Size+1))
	if err != nil {
		return nil, r.fail(repoPath, err)
	}
	if int64(len(data)) != blob.Size {
		return nil, r.fail(repoPath, fmt.Errorf("blob %s holds %d bytes, header says %d", e.Hash, len(data), blob.Size))
	}
	return data, nil
}

// validName accepts a tree entry name that is one plain path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && utf8.ValidString(name) &&
		!strings.ContainsAny(name, "/\x00")
}

func sortNodes(ns []*node) {
	slices.SortFunc(ns, func(a, b *node) int { return strings.Compare(a.name, b.name) })
}

func (r *treeReader) refuse(at, reason string) error {
	return &Refusal{Commit: r.commit.Hash.String(), Path: at, Reason: reason, Kind: model.RefusalTree}
}

func (r *treeReader) fail(at string, err error) error {
	if at == "" {
		at = "."
	}
	return fmt.Errorf("read spec tree of commit %s at %s: %w", model.ShortHash(r.commit.Hash.String()), at, err)
}
