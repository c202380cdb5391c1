package patronienv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgreconciler/pgreconciler/internal/testenv/runas"
)

// poll is how often the waits below look again.
const poll = 100 * time.Millisecond

// waitFor calls check until it reports done, an error that is final, or
// ctx ends; the last non-final error explains a timeout.
func waitFor(ctx context.Context, what string, check func() (done bool, err error)) error {
	var last error
	for {
		done, err := check()
		if done {
			return err
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(poll):
		}
	}
}

// leaderName returns the leader that GET /cluster shows, or "".
func (c *Cluster) leaderName(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := c.View(ctx)
	if err != nil {
		return "", err
	}
	return v.Leader(), nil
}

// waitLeader waits until name holds the leader key and its PostgreSQL runs.
func (c *Cluster) waitLeader(ctx context.Context, name string) error {
	return waitFor(ctx, name+" to lead", func() (bool, error) {
		v, err := c.View(ctx)
		if err != nil {
			return false, err
		}
		for _, m := range v.Members {
			if m.Name == name && m.Role == "leader" && m.State == "running" {
				return true, nil
			}
		}
		return false, fmt.Errorf("members %+v", v.Members)
	})
}

// waitRunning waits until m's Patroni reports PostgreSQL running, failing
// early when the Patroni process p exits.
func (c *Cluster) waitRunning(ctx context.Context, m *Member, p *runas.Process) error {
	return waitFor(ctx, m.Name()+"'s PostgreSQL to run", func() (bool, error) {
		if !p.Running() {
			return true, errors.New("patroni exited")
		}
		st, err := c.memberState(ctx, m)
		if err != nil {
			return false, err
		}
		if st == "running" || st == "streaming" {
			return true, nil
		}
		return false, fmt.Errorf("state %q", st)
	})
}

// Leader waits until the cluster has a leader whose PostgreSQL runs and
// returns it.
func (c *Cluster) Leader(ctx context.Context) (*Member, error) {
	var leader *Member
	err := waitFor(ctx, "a leader", func() (bool, error) {
		v, err := c.View(ctx)
		if err != nil {
			return false, err
		}
		for _, mv := range v.Members {
			if mv.Role == "leader" && mv.State == "running" {
				leader = c.Member(mv.Name)
				return leader != nil, nil
			}
		}
		return false, fmt.Errorf("members %+v", v.Members)
	})
	return leader, err
}

// WaitHealthy waits until every member whose Patroni runs is listed as
// running, one of them leads, and the leader streams to every other one on
// its own timeline: the state after bootstrap, a switchover or a
// failover has settled (the old leader rewound and following).
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	return waitFor(ctx, "a healthy cluster", func() (bool, error) {
		v, err := c.View(ctx)
		if err != nil {
			return false, err
		}
		leader := c.Member(v.Leader())
		if leader == nil {
			return false, fmt.Errorf("no leader: %+v", v.Members)
		}
		var tl int
		for _, mv := range v.Members {
			if mv.Name == leader.Name() {
				tl = mv.Timeline
			}
		}
		var want []string
		for _, m := range c.members {
			if m == leader || !m.PatroniRunning() {
				continue
			}
			want = append(want, m.Name())
			i := slices.IndexFunc(v.Members, func(mv MemberView) bool { return mv.Name == m.Name() })
			if i < 0 || (v.Members[i].State != "running" && v.Members[i].State != "streaming") || v.Members[i].Timeline != tl {
				return false, fmt.Errorf("member %s not following on timeline %d: %+v", m.Name(), tl, v.Members)
			}
		}
		streaming, err := leader.streamingTo(ctx)
		if err != nil {
			return false, err
		}
		for _, name := range want {
			if !slices.Contains(streaming, name) {
				return false, fmt.Errorf("leader %s streams to %v, not to %s", leader.Name(), streaming, name)
			}
		}
		return true, nil
	})
}

// streamingTo lists the application names the member's walsenders stream to.
func (m *Member) streamingTo(ctx context.Context) ([]string, error) {
	conn, err := m.Admin(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_replication on %s: %w", m.Name(), err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Switchover runs `patronictl switchover --force` from the current leader
// to candidate (any other member when candidate is nil), waits until the
// cluster is healthy again and returns the new leader.
func (c *Cluster) Switchover(ctx context.Context, candidate *Member) (*Member, error) {
	leader, err := c.Leader(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"switchover", c.Name, "--leader", leader.Name(), "--force"}
	if candidate != nil {
		args = append(args, "--candidate", candidate.Name())
	}
	if _, err := c.Patronictl(ctx, args...); err != nil {
		return nil, err
	}
	return c.settleAfter(ctx, leader)
}

// Failover kills the leader's postmaster and waits until another member
// leads and the old leader has rejoined (pg_rewind); it returns the new
// leader.
func (c *Cluster) Failover(ctx context.Context) (*Member, error) {
	leader, err := c.Leader(ctx)
	if err != nil {
		return nil, err
	}
	if err := leader.KillPostmaster(); err != nil {
		return nil, err
	}
	return c.settleAfter(ctx, leader)
}

// settleAfter waits for a leader other than old and a healthy cluster.
func (c *Cluster) settleAfter(ctx context.Context, old *Member) (*Member, error) {
	var leader *Member
	err := waitFor(ctx, "a new leader", func() (bool, error) {
		l, err := c.Leader(ctx)
		if err != nil {
			return true, err
		}
		leader = l
		if l != old {
			return true, nil
		}
		return false, fmt.Errorf("%s still leads", old.Name())
	})
	if err != nil {
		return nil, err
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return nil, err
	}
	return leader, nil
}
