package patronienv

import (
	"context"
	"testing"
	"time"
)

func TestStartSwitchoverFailover(t *testing.T) {
	c := New(t, Options{Name: "pg-h"})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	begin := time.Now()
	l, err := c.Switchover(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("switchover to %s settled in %s", l.Name(), time.Since(begin))
	begin = time.Now()
	l2, err := c.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover to %s settled in %s", l2.Name(), time.Since(begin))
}
