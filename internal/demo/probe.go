package demo

import (
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// freeListenAddr is 127.0.0.1:9910 when it is free, else a free port.
func freeListenAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:9910")
	if err != nil {
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (r *run) conn() (*pgx.Conn, error) {
	return r.cluster.Primary.Connect(r.ctx, r.cluster.SuperUser, r.cluster.SuperPassword, "postgres")
}

// scalar is the one value sql returns on the primary, "" on any error.
func (r *run) scalar(sql string) string {
	c, err := r.conn()
	if err != nil {
		return ""
	}
	defer c.Close(r.ctx)
	var v any
	if err := c.QueryRow(r.ctx, sql).Scan(&v); err != nil {
		return ""
	}
	return fmt.Sprint(v)
}

// metric sums the samples of a metric whose labels contain all of labels.
func (r *run) metric(name string, labels ...string) float64 {
	return testenv.ScrapeSum("http://"+r.listen+"/metrics", name, labels...)
}

func (r *run) waitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(r.Wait)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		select {
		case <-r.exited: // nil before the daemon starts: never ready
			return fmt.Errorf("the daemon exited while waiting for %s (see %s)", what, r.path(r.logFile.Name()))
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not happen within %s (daemon log: %s)", what, r.Wait, r.path(r.logFile.Name()))
}
