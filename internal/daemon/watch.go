package daemon

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pgreconciler/pgreconciler/internal/source"
)

// watchRefs watches a local repository's refs so that a commit or push is
// picked up at once; remote sources are polled only.
func (d *Daemon) watchRefs(ctx context.Context, repo string, kick chan struct{}) *fsnotify.Watcher {
	if source.IsRemote(repo) {
		return nil
	}
	gitDir := filepath.Join(repo, ".git")
	if st, err := os.Stat(gitDir); err != nil || !st.IsDir() {
		gitDir = repo // a bare repository
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		d.log.Warn("cannot watch the repository; polling only", "repo", repo, "err", err)
		return nil
	}
	for _, dir := range []string{gitDir, filepath.Join(gitDir, "refs", "heads"), filepath.Join(gitDir, "refs", "tags")} {
		_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				_ = w.Add(p)
			}
			return nil
		})
	}
	go func() {
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
						_ = w.Add(ev.Name) // a new branch directory (feature/x)
					}
				}
				debounce = time.After(100 * time.Millisecond)
			case <-debounce:
				select {
				case kick <- struct{}{}:
				default:
				}
			case <-w.Errors:
			}
		}
	}()
	return w
}
