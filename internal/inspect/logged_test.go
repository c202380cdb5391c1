package inspect

import (
	"context"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestLoggedClients: a server that logs connections to csvlog shows, with
// a log window, the clients that connected and left (a batch job), grouped
// without their ports, TLS told apart; without a window nothing is read.
func TestLoggedClients(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-logs", Replicas: -1, BaseIP: 66, ExtraConf: map[string]string{
		"logging_collector": "on", "log_destination": "stderr,csvlog", "log_directory": "log", "log_connections": "on",
	}})
	c.Primary.MustLocal(t, "postgres", "CREATE ROLE imp_batch LOGIN PASSWORD 'Batch.Secret.2026'")
	job := testenv.ClientOptions{User: "imp_batch", Password: "Batch.Secret.2026", Database: "postgres", From: "127.0.0.4", Application: "nightly"}
	for range 2 {
		conn := c.Primary.HoldClient(t, job)
		conn.Close(context.Background())
	}
	job.SSL, job.From = true, "127.0.0.5"
	c.Primary.HoldClient(t, job).Close(context.Background())

	l := login{server: c.Primary, user: c.SuperUser, password: c.SuperPassword, count: &testenv.RoundTrips{}}
	want := map[model.ClientGroup]bool{
		{User: "imp_batch", Database: "postgres", ClientAddr: "127.0.0.4", ApplicationName: "nightly", Sessions: 2}:            true,
		{User: "imp_batch", Database: "postgres", ClientAddr: "127.0.0.5", SSL: true, ApplicationName: "nightly", Sessions: 1}: true,
	}
	var st *model.InstanceState
	deadline := time.Now().Add(10 * time.Second) // the collector writes asynchronously
	for {
		conn, err := l.dial(t.Context(), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		opts := l.options()
		opts.LogWindow = time.Hour
		st, err = Inspect(t.Context(), conn, opts)
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, g := range st.Logged {
			if want[g] {
				found++
			}
		}
		if found == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logged clients (read %v): %+v", st.LogRead, st.Logged)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !st.LogRead || st.LoggedGroups < len(want) {
		t.Errorf("log read %v, %d groups", st.LogRead, st.LoggedGroups)
	}
	st = l.mustInspect(t)
	if st.LogRead || st.Logged != nil {
		t.Errorf("no window: log read %v, logged %+v", st.LogRead, st.Logged)
	}
}
