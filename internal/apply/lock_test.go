package apply_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
)

// blockingWriter holds an apply inside its HBA step until released.
type blockingWriter struct {
	apply.HBAWriter
	once     sync.Once
	entered  chan struct{}
	released chan struct{}
}

func (w *blockingWriter) Read(ctx context.Context, in *model.Instance, path string) ([]byte, apply.FileInfo, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.released
	return w.HBAWriter.Read(ctx, in, path)
}

// TestConcurrentApplyIsBusy (promise P13; case C01; docs/promises.md): while one apply holds the
// cluster's apply lock, a second reconciler cannot take it (ErrBusy); an
// apply without the lock refuses to start and changes nothing; once the
// first apply is done and its lock released, the lock is free again.
func TestConcurrentApplyIsBusy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w := &blockingWriter{HBAWriter: apply.NewLocalWriter(), entered: make(chan struct{}), released: make(chan struct{})}
	first := f.opts
	first.HBA = w
	done := make(chan error, 1)
	go func() {
		_, err := f.applyTo(ctx, f.target(), plan.ClusterPlan{Name: env.Name,
			Changes: []plan.Change{hbaChange(primaryName(), readHBA(t, env.Primary))}}, first)
		done <- err
	}()
	<-w.entered

	if l, err := apply.AcquireLock(ctx, f.dialer, f.cluster); !errors.Is(err, apply.ErrBusy) {
		if l != nil {
			_ = l.Release(ctx)
		}
		t.Errorf("second lock: %v, want ErrBusy", err)
	}
	second := plan.ClusterPlan{Name: env.Name, Changes: []plan.Change{createRole("busy_second", "LOGIN")}}
	res, err := apply.Apply(ctx, f.target(), second, f.opts)
	if err == nil || !strings.Contains(err.Error(), "apply lock is not held") {
		t.Errorf("apply without the lock: %v", err)
	}
	if res == nil || res.Outcomes[0].Status != plan.StatusSkipped || !strings.Contains(res.Outcomes[0].Error, "not attempted") {
		t.Errorf("the lockless apply's outcome: %+v", res)
	}
	var exists bool
	queryRow(t, env.Primary, "postgres", "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'busy_second')", nil, &exists)
	if exists {
		t.Fatal("an apply without the lock created a role")
	}
	close(w.released)
	if err := <-done; err != nil {
		t.Fatalf("first apply: %v", err)
	}
	res, err = f.applyTo(ctx, f.target(), second, f.opts)
	if err != nil || res.Outcomes[0].Status != plan.StatusApplied {
		t.Fatalf("apply after the first one ended: %v %+v", err, res)
	}
}

// TestDryRunAndObserveWriteNothing (promises P19, P15; docs/promises.md): a dry run logs what it
// would do and connects to nothing; changes of a class in observe mode
// and report-only changes are skipped.
func TestDryRunAndObserveWriteNothing(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	original, before := readHBA(t, env.Primary), loadTime(t, env.Primary)
	changes := []plan.Change{
		createRole("dry_role", "LOGIN"),
		passwordChange("dry_role", alterPassword("dry_role"), "dry-secret-password", ""),
		parameter(primaryName(), "work_mem", "16MB"),
		hbaChange(primaryName(), baseHBA),
	}
	f.opts.DryRun = true
	res := f.apply(changes...)
	wantStatus(t, res, plan.StatusSkipped)
	for _, o := range res.Outcomes {
		if o.Error != "dry run" {
			t.Errorf("%s: reason %q", o.Change.Kind, o.Error)
		}
	}
	if n := strings.Count(f.logs.String(), `"msg":"would apply change"`); n != len(changes) {
		t.Errorf("%d 'would' log lines for %d changes", n, len(changes))
	}
	if strings.Contains(f.logs.String(), "dry-secret-password") {
		t.Error("the dry run logged a password")
	}

	f.opts.DryRun = false
	f.opts.Hold = func(c plan.Change) string {
		if c.Kind.DriftClass() != "user" {
			return "observe mode: drift class " + string(c.Kind.DriftClass()) + " is not corrected"
		}
		return ""
	}
	res = f.apply(append(changes[2:], plan.Change{Kind: plan.KindUnmanaged, Action: plan.ActionNote, Object: "stranger"},
		plan.Change{Kind: plan.KindHBA, Action: plan.ActionReport, Object: "pg_hba.conf", Instance: primaryName()})...)
	wantStatus(t, res, plan.StatusSkipped)
	if e := res.Outcomes[0].Error; !strings.Contains(e, "observe mode") {
		t.Errorf("observe mode reason: %q", e)
	}

	if lines := f.serverLines(env.Primary); len(lines) != 0 {
		t.Errorf("the server saw %d statements, e.g. %s", len(lines), lines[0])
	}
	var exists bool
	queryRow(t, env.Primary, "postgres", "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dry_role')", nil, &exists)
	if exists {
		t.Error("the dry run created a role")
	}
	unchanged(t, env.Primary, original, before)
}

// TestEmptyPlanSendsNothing (idempotence; case S05; docs/promises.md): a plan without changes to
// execute opens no session, so it sends no statement at all.
func TestEmptyPlanSendsNothing(t *testing.T) {
	f := newFixture(t)
	f.opts.HBA = apply.NewLocalWriter()
	f.apply()
	if lines := f.serverLines(env.Primary); len(lines) != 0 {
		t.Errorf("an empty plan sent %d statements, e.g. %s", len(lines), lines[0])
	}
	if rows := f.changeLog(); len(rows) != 0 {
		t.Errorf("change log rows: %+v", rows)
	}
}
