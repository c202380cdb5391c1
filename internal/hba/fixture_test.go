package hba

import (
	"github.com/pgreconciler/pgreconciler/internal/model"
)

func ord(n int) *int { return &n }

// pigstyGlobals are Pigsty's defaults for the globals HBA uses.
func pigstyGlobals() model.Globals {
	return model.Globals{
		AdminIP:            "10.10.10.10",
		InfraIPs:           []string{"10.10.10.10"},
		Intranet:           []string{"10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"},
		DBSU:               "postgres",
		ReplicationUser:    "replicator",
		AdminUser:          "dbuser_dba",
		MonitorUser:        "dbuser_monitor",
		PasswordEncryption: "scram-sha-256",
	}
}

// pigstyDefaultRules is pg_default_hba_rules as Pigsty's
// roles/pgsql/defaults/main.yml defines it, with the titles Pigsty gives
// these rules.
func pigstyDefaultRules() []model.HBARule {
	r := func(user, db, addr, auth, title string, order int) model.HBARule {
		return model.HBARule{User: user, DB: db, Addr: addr, Auth: auth, Title: title, Order: ord(order), Default: true}
	}
	return []model.HBARule{
		r("${dbsu}", "all", "local", "ident", "dbsu access via local os user ident", 100),
		r("${dbsu}", "replication", "local", "ident", "dbsu replication from local os ident", 150),
		r("${repl}", "replication", "localhost", "pwd", "replicator replication from localhost", 200),
		r("${repl}", "replication", "intra", "pwd", "replicator replication from intranet", 250),
		r("${repl}", "postgres", "intra", "pwd", "replicator postgres db from intranet", 300),
		r("${monitor}", "all", "localhost", "pwd", "monitor from localhost with password", 350),
		r("${monitor}", "all", "infra", "pwd", "monitor from infra host with password", 400),
		r("${admin}", "all", "intra", "pwd", "admin @ intranet with password", 450),
		r("${admin}", "all", "world", "ssl", "admin @ everywhere with ssl & pwd", 500),
		r("+dbrole_readonly", "all", "localhost", "pwd", "pgbouncer read/write via local socket", 550),
		r("+dbrole_readonly", "all", "intra", "pwd", "read/write biz user via password", 600),
		r("+dbrole_offline", "all", "intra", "pwd", "allow etl offline tasks from intranet", 650),
	}
}

// excerptUserRules are the three user rules of the §5.5 excerpt.
func excerptUserRules() []model.HBARule {
	return []model.HBARule{
		{User: "dbuser_app", DB: "app", Addr: "10.1.0.0/16", Auth: "ssl", Title: "app via ssl", Order: ord(50)},
		{User: "+dbrole_offline", DB: "all", Addr: "intra", Auth: "pwd", Title: "offline only", Role: "offline"},
		{Rules: []string{"host all all 10.9.0.0/16 reject"}, Title: "raw", Role: "replica"},
	}
}

// testCluster is pg-test: a primary, a replica and an offline-query
// replica; every instance gets rules.
func testCluster(rules []model.HBARule) *model.Cluster {
	c := &model.Cluster{Name: "pg-test", Globals: pigstyGlobals()}
	for i, spec := range []struct {
		ip      string
		role    model.InstanceRole
		offline bool
	}{
		{"10.10.10.11", model.RolePrimary, false},
		{"10.10.10.12", model.RoleReplica, false},
		{"10.10.10.13", model.RoleReplica, true},
	} {
		c.Instances = append(c.Instances, &model.Instance{
			Cluster: c.Name, Seq: i + 1, IP: spec.ip, Role: spec.role, OfflineQuery: spec.offline,
			Port: 5432, HBA: rules,
		})
	}
	return c
}
