package audit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// step reconfigures the live server (cumulatively, from the state the
// step before left) and says what the check must then find.
type step struct {
	name  string
	setup func(t *testing.T, c *testenv.Cluster, spec *model.Cluster)
	want  Status
	why   string // a substring of the verdict's Why
	seq   int    // the instance judged; 0 is the primary
	// needs is a library the step loads: when the server's build lacks it
	// (the npm builds have no pgaudit), the check's remaining steps are
	// skipped, with why.
	needs string
}

// renderedHBA is the pg_hba.conf the spec renders for instance seq.
func renderedHBA(t *testing.T, spec *model.Cluster, seq int) string {
	t.Helper()
	f, err := hba.Render(spec, spec.Instances[seq-1])
	if err != nil {
		t.Fatal(err)
	}
	return f.Text
}

func useSpecHBA(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
	setHBA(t, c.Primary, renderedHBA(t, spec, 1))
}

func sql(stmts ...string) func(*testing.T, *testenv.Cluster, *model.Cluster) {
	return func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) { execSQL(t, c.Primary, stmts...) }
}

func set(kv ...string) func(*testing.T, *testenv.Cluster, *model.Cluster) {
	return func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) { alterSystem(t, c.Primary, kv...) }
}

// setRestart sets parameters and restarts the primary.
func setRestart(kv ...string) func(*testing.T, *testenv.Cluster, *model.Cluster) {
	return func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
		alterSystem(t, c.Primary, kv...)
		restart(t, c.Primary)
	}
}

func nothing(*testing.T, *testenv.Cluster, *model.Cluster) {}

// writeCert writes a self-signed certificate and key for ips, valid from
// notBefore to notAfter, where the primary can read them.
func writeCert(t *testing.T, s *testenv.Server, name string, notBefore, notAfter time.Time, ips ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(s.DataDir, name+".crt")
	keyFile = filepath.Join(s.DataDir, name+".key")
	writeServerFile(t, s, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeServerFile(t, s, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	return certFile, keyFile
}

func useCert(name string, notBefore, notAfter time.Time, ips ...string) func(*testing.T, *testenv.Cluster, *model.Cluster) {
	return func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
		crt, key := writeCert(t, c.Primary, name, notBefore, notAfter, ips...)
		alterSystem(t, c.Primary, "ssl_cert_file", crt, "ssl_key_file", key)
	}
}

// archiveTo turns archiving on with cp into a directory of the primary's,
// restarts, and waits until a segment is archived.
func archiveTo(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
	dir := filepath.Join(c.Primary.DataDir, "audit-archive")
	mkServerDir(t, c.Primary, dir)
	alterSystem(t, c.Primary, "archive_mode", "on", "archive_command", "cp %p "+dir+"/%f")
	restart(t, c.Primary)
	switchAndWait(t, c.Primary, "archived_count")
}

// failArchiving makes archive_command fail and waits for the failure.
func failArchiving(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
	alterSystem(t, c.Primary, "archive_command", "false")
	switchAndWait(t, c.Primary, "failed_count")
}

// switchAndWait writes, switches WAL and waits until pg_stat_archiver's
// counter grows.
func switchAndWait(t *testing.T, s *testenv.Server, counter string) {
	t.Helper()
	conn, err := s.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var before int64
	if err := conn.QueryRow(t.Context(), "SELECT "+counter+" FROM pg_stat_archiver").Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE IF NOT EXISTS audit_wal (x int); INSERT INTO audit_wal VALUES (1); SELECT pg_switch_wal()"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var n int64
		if err := conn.QueryRow(t.Context(), "SELECT "+counter+" FROM pg_stat_archiver").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pg_stat_archiver.%s stays %d", counter, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// liveCases are the checks judged on the shared cluster, each both ways.
func liveCases() map[string][]step {
	now := time.Now()
	return map[string][]step{
		"roles-declared": {
			{name: "declared", setup: nothing, want: StatusPass},
			{name: "undeclared login", setup: sql("CREATE ROLE intruder LOGIN"), want: StatusFail, why: "intruder can log in but the spec does not declare it"},
		},
		"password-encryption": {
			{name: "scram", setup: nothing, want: StatusPass},
			{name: "md5", setup: set("password_encryption", "md5"), want: StatusFail, why: "hashed with md5"},
		},
		"login-verifiers": {
			{name: "scram", setup: nothing, want: StatusPass},
			{name: "md5 verifier", setup: sql("SET password_encryption = 'md5'", "CREATE ROLE legacy LOGIN PASSWORD 'legacy-pw'"),
				want: StatusFail, why: "legacy's password is stored as md5"},
		},
		"password-check": {
			{name: "not loaded", setup: nothing, want: StatusFail, why: "neither passwordcheck nor credcheck"},
			{name: "passwordcheck", setup: setRestart("shared_preload_libraries", "pg_stat_statements, passwordcheck"), want: StatusPass, why: "passwordcheck checks"},
		},
		"login-expiry": {
			{name: "expire_in kept", setup: sql("CREATE ROLE dbuser_app LOGIN VALID UNTIL '" + now.AddDate(0, 0, 10).UTC().Format(time.RFC3339) + "'"), want: StatusPass},
			{name: "never expires", setup: sql("ALTER ROLE dbuser_app VALID UNTIL 'infinity'"), want: StatusFail, why: "dbuser_app never expires"},
			{name: "beyond expire_in", setup: sql("ALTER ROLE dbuser_app VALID UNTIL '" + now.AddDate(0, 0, 90).UTC().Format(time.RFC3339) + "'"),
				want: StatusFail, why: "expires after today + expire_in 30 days"},
			{name: "expire_at kept", setup: sql("CREATE ROLE dbuser_etl LOGIN VALID UNTIL '2031-06-30 00:00:00+00'",
				"ALTER ROLE dbuser_app VALID UNTIL '"+now.AddDate(0, 0, 30).UTC().Format(time.RFC3339)+"'"), want: StatusPass},
			{name: "expire_at moved", setup: sql("ALTER ROLE dbuser_etl VALID UNTIL '2032-01-01 00:00:00+00'"), want: StatusFail, why: "not on expire_at 2031-06-30"},
		},
		"auth-failures-logged": {
			{name: "warning", setup: nothing, want: StatusPass},
			{name: "panic", setup: set("log_min_messages", "panic"), want: StatusFail, why: "failed logins are not logged"},
		},
		"auth-delay": {
			{name: "not loaded", setup: nothing, want: StatusFail, why: "auth_delay is not loaded"},
			{name: "loaded, no delay", setup: setRestart("shared_preload_libraries", "pg_stat_statements, auth_delay"), want: StatusFail, why: "no delay"},
			{name: "200 ms", setup: set("auth_delay.milliseconds", "200"), want: StatusPass},
		},
		"hba-cert": {
			{name: "missing", setup: nothing, want: StatusFail, why: "the spec's cert rule is not in force"},
			{name: "in force", setup: func(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
				useSpecHBA(t, c, spec)
				alterSystem(t, c.Primary, "ssl_ca_file", c.CACertFile)
			}, want: StatusPass, why: "require a client certificate"},
			{name: "no CA", setup: set("ssl_ca_file", ""), want: StatusFail, why: "ssl_ca_file is empty"},
		},
		"hba-no-trust-tcp": {
			{name: "local trust only", setup: nothing, want: StatusPass},
			{name: "host trust", setup: func(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
				setHBA(t, c.Primary, renderedHBA(t, spec, 1)+"host all all 10.0.0.0/8 trust\n")
			}, want: StatusFail, why: "lets TCP clients in without authentication"},
		},
		"hba-as-declared": {
			{name: "harness default", setup: nothing, want: StatusFail, why: "not in the spec: local  all  all  trust"},
			{name: "rendered", setup: useSpecHBA, want: StatusPass},
			{name: "edited", setup: func(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
				setHBA(t, c.Primary, renderedHBA(t, spec, 1)+"host all all 10.9.0.0/16 scram-sha-256\n")
			}, want: StatusFail, why: "not in the spec: host  all  all  10.9.0.0/16"},
			{name: "changed after the last reload", setup: func(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
				time.Sleep(1100 * time.Millisecond) // pg_stat_file has whole seconds
				writeServerFile(t, c.Primary, c.Primary.HBAPath(), []byte(renderedHBA(t, spec, 1)))
			}, want: StatusUnknown, why: "after the last reload"},
		},
		"privileged-roles": {
			{name: "as declared", setup: nothing, want: StatusPass},
			{name: "undeclared powers", setup: sql("CREATE ROLE ops LOGIN CREATEROLE BYPASSRLS", "GRANT pg_execute_server_program TO ops"),
				want: StatusFail, why: "ops holds CREATEROLE the spec does not declare"},
			{name: "undeclared superuser", setup: sql("ALTER ROLE ops NOCREATEROLE NOBYPASSRLS", "REVOKE pg_execute_server_program FROM ops", "ALTER ROLE dbuser_monitor SUPERUSER"),
				want: StatusFail, why: "dbuser_monitor is a superuser the spec does not declare"},
		},
		"role-tiers": {
			{name: "no tiers", setup: nothing, want: StatusFail, why: "tier dbrole_admin does not exist"},
			{name: "tiers as declared", setup: sql(
				"CREATE ROLE dbrole_readonly NOLOGIN", "CREATE ROLE dbrole_offline NOLOGIN",
				"CREATE ROLE dbrole_readwrite NOLOGIN IN ROLE dbrole_readonly",
				"CREATE ROLE dbrole_admin NOLOGIN IN ROLE pg_monitor, dbrole_readwrite",
				"GRANT pg_monitor, dbrole_readonly TO replicator", "GRANT dbrole_admin TO dbuser_dba",
				"GRANT dbrole_readonly TO dbuser_monitor"), want: StatusPass},
			{name: "undeclared tier", setup: sql("GRANT dbrole_readwrite TO dbuser_monitor"), want: StatusFail,
				why: "dbuser_monitor holds tier dbrole_readwrite, which the spec does not grant it"},
		},
		"ssl-on": {
			{name: "on", setup: nothing, want: StatusPass},
			{name: "off", setup: set("ssl", "off"), want: StatusFail, why: "in clear text"},
		},
		"ssl-min-protocol": {
			{name: "TLSv1.2", setup: nothing, want: StatusPass},
			{name: "TLSv1", setup: set("ssl_min_protocol_version", "TLSv1"), want: StatusFail, why: "older than TLSv1.2"},
		},
		"server-certificate": {
			{name: "valid", setup: nothing, want: StatusPass, why: "names the instance"},
			{name: "expired and misnamed", setup: useCert("audit-expired", now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1), "127.0.0.1"),
				want: StatusFail, why: "the certificate expired at"},
			{name: "expiring soon", setup: useCert("audit-soon", now.Add(-time.Hour), now.AddDate(0, 0, 10), "127.0.0.121"),
				want: StatusFail, why: "expires in 9 days"},
		},
		"hba-admin-ssl": {
			{name: "admin over hostssl", setup: useSpecHBA, want: StatusPass},
			{name: "admin over host from anywhere", setup: func(t *testing.T, c *testenv.Cluster, spec *model.Cluster) {
				setHBA(t, c.Primary, renderedHBA(t, spec, 1)+"host all all 0.0.0.0/0 scram-sha-256\n")
			}, want: StatusFail, why: "lets dbuser_dba in from 0.0.0.0/0 without SSL"},
		},
		"hba-ssl-required": {
			{name: "loopback only", setup: nothing, want: StatusPass},
			{name: "intranet without ssl", setup: useSpecHBA, want: StatusFail, why: "accepts connections from 10.0.0.0/8 without SSL"},
		},
		"log-statement": {
			{name: "all", setup: nothing, want: StatusPass},
			{name: "none", setup: set("log_statement", "none"), want: StatusFail, why: "log_statement is none"},
			{name: "ddl, but a role escapes", setup: func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
				alterSystem(t, c.Primary, "log_statement", "ddl")
				execSQL(t, c.Primary, "ALTER ROLE dbuser_monitor SET log_statement = 'none'")
			}, want: StatusFail, why: "ALTER ROLE dbuser_monitor sets log_statement = none"},
		},
		"log-connections": logConnectionsCases(cluster.Major),
		"log-disconnections": {
			{name: "off", setup: nothing, want: StatusFail},
			{name: "on", setup: set("log_disconnections", "on"), want: StatusPass},
		},
		"log-lock-waits": {
			{name: "off", setup: nothing, want: StatusFail},
			{name: "on", setup: set("log_lock_waits", "on"), want: StatusPass},
		},
		"log-replication-commands": {
			{name: "off", setup: nothing, want: StatusFail},
			{name: "on", setup: set("log_replication_commands", "on"), want: StatusPass},
		},
		"log-min-duration-statement": {
			{name: "0", setup: nothing, want: StatusPass},
			{name: "disabled", setup: set("log_min_duration_statement", "-1"), want: StatusFail, why: "is -1"},
			{name: "100ms, but a database escapes", setup: func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
				alterSystem(t, c.Primary, "log_min_duration_statement", "100ms")
				execSQL(t, c.Primary, "ALTER DATABASE postgres SET log_min_duration_statement = '1s'")
			}, want: StatusFail, why: "ALTER DATABASE postgres sets log_min_duration_statement = 1s"},
		},
		"pgaudit": {
			{name: "not loaded", setup: nothing, want: StatusNotApplicable},
			{name: "loaded, logs nothing", setup: setRestart("shared_preload_libraries", "pg_stat_statements, pgaudit"), want: StatusFail, why: "pgaudit.log is none", needs: "pgaudit"},
			{name: "ddl and role", setup: set("pgaudit.log", "ddl, role"), want: StatusPass},
			{name: "read only", setup: set("pgaudit.log", "read"), want: StatusFail, why: "pgaudit.log is read"},
			{name: "all, but a role escapes", setup: func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
				alterSystem(t, c.Primary, "pgaudit.log", "all")
				execSQL(t, c.Primary, "CREATE ROLE dbuser_app LOGIN", "ALTER ROLE dbuser_app SET pgaudit.log = 'none'")
			}, want: StatusFail, why: "ALTER ROLE dbuser_app sets pgaudit.log = none"},
		},
		"log-file-mode": {
			{name: "stderr", setup: nothing, want: StatusUnknown, why: "logging_collector is off"},
			{name: "collector 0640", setup: setRestart("logging_collector", "on", "log_file_mode", "0640"), want: StatusPass},
			{name: "world-readable", setup: set("log_file_mode", "0644"), want: StatusFail, why: "readable by others"},
		},
		"wal-archiving": {
			{name: "off", setup: nothing, want: StatusFail, why: "archive_mode is off"},
			{name: "archiving", setup: archiveTo, want: StatusPass, why: "archived continuously"},
			{name: "replica", setup: nothing, want: StatusNotApplicable, seq: 2},
			{name: "failing", setup: failArchiving, want: StatusFail, why: "archiving fails"},
		},
		"listen-addresses": {
			{name: "own address", setup: nothing, want: StatusPass},
			{name: "a public address", setup: setRestart("listen_addresses", "127.0.0.121, 192.0.2.10"), want: StatusFail, why: "listens on 192.0.2.10, outside the intranet"},
		},
		"monitoring": {
			{name: "pg_monitor", setup: nothing, want: StatusPass},
			{name: "revoked", setup: sql("REVOKE pg_monitor FROM dbuser_monitor"), want: StatusFail, why: "cannot read the statistics views"},
		},
		"replicas-streaming": {
			{name: "streaming", setup: nothing, want: StatusPass},
			{name: "replica", setup: nothing, want: StatusNotApplicable, seq: 2},
			{name: "replica down", setup: func(t *testing.T, c *testenv.Cluster, _ *model.Cluster) {
				if err := c.Replicas[0].Stop(); err != nil {
					t.Fatal(err)
				}
			}, want: StatusFail, why: "pg-audit-2 does not replicate from the primary"},
		},
	}
}

// specFor adds what a check's cases need to the test spec.
func specFor(check string, spec *model.Cluster) {
	switch check {
	case "login-expiry":
		spec.Roles = append(spec.Roles, &model.Role{Name: "dbuser_app", Login: ptr(true), ExpireIn: ptr(30)},
			&model.Role{Name: "dbuser_etl", Login: ptr(true), ExpireAt: "2031-06-30"})
	case "hba-cert":
		for _, in := range spec.Instances {
			in.HBA = append(in.HBA, model.HBARule{User: "dbuser_cert", DB: "all", Addr: "10.0.0.0/8", Auth: "cert", Title: "certificate users"})
		}
	case "privileged-roles":
		spec.Roles = append(spec.Roles, &model.Role{Name: "ops", Login: ptr(true)})
	}
}

// Every check, against the live servers, both ways: a server configured
// to pass, then reconfigured to fail (or the other way round).
func TestChecksOnLiveServers(t *testing.T) {
	cases := liveCases()
	for _, c := range Checks() {
		if _, ok := cases[c.ID]; !ok && !pureOnly[c.ID] {
			t.Errorf("check %s has no live test", c.ID)
		}
	}
	for _, id := range sortedKeys(cases) {
		t.Run(id, func(t *testing.T) {
			c := fresh(t)
			spec := specOf(c)
			specFor(id, spec)
			col := superCollector(t, c)
			seen := map[Status]bool{}
			for _, st := range cases[id] {
				if st.needs != "" && !installed(t, c.Primary, st.needs) {
					t.Skipf("%s: PostgreSQL %s here has no %s library (the npm builds lack it); from step %q on, the check is judged by its pure tests",
						id, c.Version, st.needs, st.name)
				}
				st.setup(t, c, spec)
				seq := max(st.seq, 1)
				v, ev := judge(t, col, spec, seq, id)
				seen[v.Status] = true
				if v.Status != st.want || !strings.Contains(v.Why, st.why) {
					t.Fatalf("%s: %s on %s = %s (%s), want %s (%q)\nevidence: %+v\nunread: %v", id, st.name, spec.Instances[seq-1].Name(),
						v.Status, v.Why, st.want, st.why, v.Evidence, ev.Unread)
				}
			}
			if !seen[StatusPass] || !seen[StatusFail] {
				t.Errorf("%s was not seen both ways: %v", id, seen)
			}
		})
	}
}

// pureOnly are the checks the shared cluster cannot show both ways: the
// PgBouncer checks (TestPoolerOnLiveServers), the chain of custody and the
// single-node checks have tests of their own, Patroni's checks are judged
// on a Patroni cluster (TestPatroniOnLiveCluster), and no TDE library is
// installed.
var pureOnly = map[string]bool{
	"pgbouncer-tls": true, "pgbouncer-auth": true, "patroni-failover": true, "patroni-rest-auth": true, "patroni-rest-ssl": true, "storage-encryption": true,
	"change-custody": true, "data-checksums": true,
}

// logConnectionsCases are log_connections' cases: a boolean before
// PostgreSQL 18, a list of aspects from 18 (off is an empty list).
func logConnectionsCases(major int) []step {
	if major < 18 {
		return []step{
			{name: "off", setup: nothing, want: StatusFail, why: "log_connections is off"},
			{name: "on", setup: set("log_connections", "on"), want: StatusPass},
		}
	}
	return []step{
		{name: "off", setup: nothing, want: StatusFail, why: "log_connections is '', want receipt,authentication,authorization"},
		{name: "on", setup: set("log_connections", "on"), want: StatusPass},
		{name: "receipt only", setup: set("log_connections", "receipt"), want: StatusFail, why: "log_connections is receipt,"},
		{name: "all three", setup: set("log_connections", "receipt,authentication,authorization"), want: StatusPass},
		{name: "all", setup: set("log_connections", "all"), want: StatusPass},
	}
}
