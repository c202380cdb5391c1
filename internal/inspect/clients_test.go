package inspect

import (
	"slices"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// TestClients: client sessions held open over TCP with and without SSL,
// from different loopback addresses, are read in the catalog batch,
// grouped with their counts; the inspecting session is not among them.
// A monitor without pg_read_all_stats would see no addresses; the bootstrap
// monitor has it (Pigsty grants pg_monitor), so its view is complete too.
// Objects a role owns are counted by database.
func TestClients(t *testing.T) {
	c := fresh(t)
	execIn(t, c.Primary, "postgres", "CREATE ROLE imp_app LOGIN PASSWORD 'Imp.Secret.2026'",
		"CREATE ROLE imp_owner NOLOGIN", "CREATE DATABASE imp")
	execIn(t, c.Primary, "imp", "CREATE TABLE imp_t ()", "ALTER TABLE imp_t OWNER TO imp_owner")
	app := testenv.ClientOptions{User: "imp_app", Password: "Imp.Secret.2026", Database: "postgres", Application: "orders"}
	plain, tls := app, app
	plain.From = "127.0.0.2"
	tls.From, tls.SSL = "127.0.0.3", true
	c.Primary.HoldClient(t, plain)
	c.Primary.HoldClient(t, plain)
	c.Primary.HoldClient(t, tls)

	st := superuser(c.Primary).mustInspect(t)
	want := []model.ClientGroup{
		{User: "imp_app", Database: "postgres", ClientAddr: "127.0.0.2", ApplicationName: "orders", Sessions: 2},
		{User: "imp_app", Database: "postgres", ClientAddr: "127.0.0.3", SSL: true, ApplicationName: "orders", Sessions: 1},
	}
	var got []model.ClientGroup
	for _, g := range st.Clients {
		if g.User == "imp_app" {
			got = append(got, g)
		}
		if g.ApplicationName == testAppName {
			t.Errorf("the inspecting session is among the clients: %+v", g)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("clients of imp_app:\n got %+v\nwant %+v", got, want)
	}
	if st.ClientGroups < len(st.Clients) || st.ClientGroups < 2 {
		t.Errorf("client groups %d for %d read", st.ClientGroups, len(st.Clients))
	}
	if r := st.Role("imp_owner"); r == nil || r.Owns["imp"] != 1 {
		t.Errorf("imp_owner owns %v, want 1 object in imp", r)
	}
}
