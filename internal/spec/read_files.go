package spec

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
)

type specFile struct {
	name string
	*parsed
}

// readFiles reads and parses the spec files of fsys, in parallel, through
// the content-hash cache, within the memory budget; used is what the data
// trees of the files cost it.
func (l *Loader) readFiles(fsys fs.FS, lim Limits) (files []specFile, used int64, problems Problems, err error) {
	var names []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "cue.mod" || d.Name() == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		switch path.Ext(p) {
		case ".cue", ".yml", ".yaml":
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("list spec files: %w", err)
	}
	sort.Strings(names)
	if len(names) > lim.MaxFiles {
		return nil, 0, Problems{{Rule: RuleLimit, Message: fmt.Sprintf("%d spec files exceed the limit of %d", len(names), lim.MaxFiles)}}, nil
	}

	out := make([]specFile, len(names))
	errs := make([]error, len(names))
	var total int64
	var mu sync.Mutex
	shared := &budget{limit: lim.MaxMemory}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if st, err := fs.Stat(fsys, name); err == nil && st.Size() > lim.MaxFileBytes {
				out[i] = specFile{name: name, parsed: &parsed{problems: Problems{{Pos: Pos{File: name}, Rule: RuleLimit,
					Message: fmt.Sprintf("file is %d bytes, over the limit of %d", st.Size(), lim.MaxFileBytes)}}}}
				return
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				errs[i] = fmt.Errorf("read %s: %w", name, err)
				return
			}
			mu.Lock()
			total += int64(len(data))
			mu.Unlock()
			out[i] = specFile{name: name, parsed: l.parse(name, data, shared)}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, 0, nil, err
		}
	}
	if total > lim.MaxBytes {
		return nil, 0, Problems{{Rule: RuleLimit, Message: fmt.Sprintf("spec files total %d bytes, over the limit of %d", total, lim.MaxBytes)}}, nil
	}

	// The verdict on the budget, file by file in name order, so that it
	// does not depend on which files were read at the same time: a file
	// cut short while others were read is read again alone, with what the
	// files before it left.
	for i := range out {
		p := out[i].parsed
		if p.out && used+p.peak <= lim.MaxMemory {
			// The partial trees of the files cut short are garbage: collect
			// them first, or they and the new reading would hold twice the
			// budget.
			runtime.GC()
			data, err := fs.ReadFile(fsys, out[i].name)
			if err != nil {
				return nil, 0, nil, fmt.Errorf("read %s: %w", out[i].name, err)
			}
			p = l.parseUncached(out[i].name, data, &budget{limit: lim.MaxMemory - used})
			out[i].parsed = p
		}
		if p.out || used+p.peak > lim.MaxMemory {
			return nil, 0, Problems{memoryProblem(out[i].name, lim.MaxMemory, used)}, nil
		}
		used += p.cost
	}
	for _, f := range out {
		problems = append(problems, f.problems...)
		if f.cue != nil || f.tree != nil {
			files = append(files, f)
		}
	}
	return files, used, problems, nil
}

// maxCachedFile is the largest file the cache keeps: the cache pays off
// for repositories of many files of which a commit changes few, while
// the tree of one big inventory (2.5 MB of YAML for 10,000 roles: 29 MiB
// of tree) would stay in a daemon's memory between commits for the one
// reload in which it did not change.
const maxCachedFile = 1 << 20

// parse reads one file, or returns the cached result for the same name and
// content. A file the budget cut short is not cached, nor one larger than
// maxCachedFile.
func (l *Loader) parse(name string, data []byte, b *budget) *parsed {
	if len(data) > maxCachedFile {
		return l.parseUncached(name, data, b) // never cached: not worth its hash
	}
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(data)
	var key [32]byte
	h.Sum(key[:0])
	l.cacheMu.Lock()
	p, ok := l.cache[key]
	if !ok {
		p, ok = l.next[key]
	}
	l.cacheMu.Unlock()
	if !ok {
		p = l.parseUncached(name, data, b)
	}
	if !p.out {
		l.remember(key, p)
	}
	return p
}

func (l *Loader) parseUncached(name string, data []byte, b *budget) *parsed {
	m := newMeter(b)
	p := &parsed{}
	switch path.Ext(name) {
	case ".cue":
		p.cue, p.problems = parseCUE(name, data, m)
		if p.cue != nil {
			p.tree = p.cue.data
		}
	default:
		if isInventoryYAML(data) {
			p.tree, p.problems = readYAML(name, data, m)
		}
	}
	p.cost, p.peak, p.out = m.persistent, m.peak, m.out
	return p
}

// remember keeps a parsed file for the next load. Only the files of the
// latest load stay cached, so memory follows the repository's size.
func (l *Loader) remember(key [32]byte, p *parsed) {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if l.next == nil {
		l.next = map[[32]byte]*parsed{}
	}
	l.next[key] = p
}

// rotateCache makes the files of the load just finished the cache.
func (l *Loader) rotateCache() {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	l.cache, l.next = l.next, nil
}
