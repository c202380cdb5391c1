package audit

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// Privileges decide what is read, never whether the audit works: the
// monitor user reads settings and roles, and is told why password types,
// HBA rules and the change log are unknown.
func TestUnprivilegedCollector(t *testing.T) {
	c := fresh(t)
	spec := specOf(c)
	conn, err := c.Primary.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := apply.RecordObserved(t.Context(), conn, []apply.Observed{{Cluster: c.Name, Instance: c.Primary.Name(),
		Kind: "role", Object: "dbuser_monitor", What: "rolcreaterole: false -> true"}}); err != nil {
		t.Fatal(err)
	}
	// A query that fails anyway aborts the batch: the rest is read alone.
	execSQL(t, c.Primary, "REVOKE SELECT ON pg_catalog.pg_stat_archiver FROM PUBLIC")
	t.Cleanup(func() {
		if err := c.Primary.Exec(context.Background(), "GRANT SELECT ON pg_catalog.pg_stat_archiver TO PUBLIC"); err != nil {
			t.Error(err)
		}
	})

	col := collector(t, c, c.MonitorUser, c.MonitorPassword)
	col.Since = time.Now().Add(-time.Hour)
	r := Run(t.Context(), &model.Desired{Clusters: []*model.Cluster{spec}}, col, Options{Profile: ProfileStrict, Since: col.Since,
		Verifier: nil, NoVerifier: "no trusted keys given"})
	want := map[string]struct {
		status Status
		why    string
	}{
		"login-verifiers":     {StatusUnknown, "pg_authid is readable by superusers only, and dbuser_monitor is not one"},
		"hba-no-trust-tcp":    {StatusUnknown, "pg_hba_file_rules is readable by superusers only"},
		"roles-declared":      {StatusPass, "declared"},
		"password-encryption": {StatusPass, "SCRAM"},
		"wal-archiving":       {StatusFail, "archive_mode is off"},
		"change-custody":      {StatusUnknown, "may not read pgreconciler.change_log"},
	}
	for id, w := range want {
		v := r.check(id).Results[0]
		if v.Status != w.status || !strings.Contains(v.Why, w.why) {
			t.Errorf("%s as the monitor user = %s (%s), want %s (%q)", id, v.Status, v.Why, w.status, w.why)
		}
	}
	in := r.Instances[0]
	if in.Err != "" || in.User != c.MonitorUser {
		t.Errorf("instance %+v", in)
	}
	if !strings.Contains(in.Unread["archiver"], "SQLSTATE 42501") {
		t.Errorf("unread archiver = %q, want the permission error", in.Unread["archiver"])
	}
	if r.Failed != true {
		t.Error("a failing required check does not fail the report")
	}
}

// An instance that cannot be reached is unknown everywhere, with why.
func TestUnreachableInstance(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	in := &model.Instance{Cluster: "pg-gone", Seq: 1, IP: "127.0.0.1", Port: port, Role: model.RolePrimary}
	// Under Patroni, as Pigsty's default: Patroni's checks, which do not
	// need PostgreSQL, are unknown because Patroni was not read.
	spec := &model.Cluster{Name: "pg-gone", Instances: []*model.Instance{in}, Patroni: model.PatroniSpec{Enabled: true, Mode: "default", Port: 8008}}
	r := Run(t.Context(), &model.Desired{Clusters: []*model.Cluster{spec}}, superCollector(t, cluster),
		Options{Profile: ProfileBaseline, Since: time.Now().Add(-time.Hour)})
	if !strings.Contains(r.Instances[0].Err, "connection refused") {
		t.Errorf("instance error %q", r.Instances[0].Err)
	}
	for _, c := range r.Checks {
		if v := c.Results[0]; v.Status != StatusUnknown {
			t.Errorf("%s on an unreachable instance = %s (%s)", c.ID, v.Status, v.Why)
		}
	}
	if r.Failed {
		t.Error("an unreachable instance fails the report: it is an error, not a failing control")
	}
	if r.Custody[0].Err == "" {
		t.Error("custody of an unreachable cluster has no error")
	}
}

// Nothing secret reaches any form of the report: passwords, hashes,
// credentials in HBA options or in archive_command. A build without LDAP
// (the npm builds) rejects the ldap line: that report is checked too, and
// then the radius line alone shows the redaction.
func TestReportHoldsNoSecret(t *testing.T) {
	c := fresh(t)
	spec := specOf(c)
	alterSystem(t, c.Primary, "archive_mode", "on", "archive_command", "AWS_SECRET_ACCESS_KEY=archive-secret-value wal-g wal-push %p --key=archive-secret-value")
	restart(t, c.Primary)
	radius := renderedHBA(t, spec, 1) + "host all all 10.78.0.0/16 radius radiusservers=192.0.2.1 radiussecrets=radius-secret-value\n"
	setHBA(t, c.Primary, radius+
		"host all all 10.77.0.0/16 ldap ldapserver=ldap.example.com ldapbasedn=\"dc=example,dc=com\" ldapbinddn=\"cn=reader\" ldapbindpasswd=ldap-secret-value ldapsearchattribute=uid\n")
	execSQL(t, c.Primary, "SET password_encryption = 'md5'", "CREATE ROLE legacy LOGIN PASSWORD 'legacy-secret-value'")
	evidence := []string{"wal-g …", "radiussecrets=&lt;redacted&gt;", "legacy&#39;s password is stored as md5"}
	if ev := superCollector(t, c).Collect(t.Context(), spec, spec.Instances[0]); ev.HBA != nil && hbaParsed(ev.HBA, "ldap") {
		evidence = append(evidence, "ldapbindpasswd=&lt;redacted&gt;")
	} else {
		noSecretIn(t, c, reportText(t, c, spec), "(the ldap line rejected)")
		setHBA(t, c.Primary, radius)
	}
	out := reportText(t, c, spec)
	noSecretIn(t, c, out, "")
	for _, evidence := range evidence {
		if !strings.Contains(out, evidence) {
			t.Errorf("the report lacks the evidence %q", evidence)
		}
	}
}

// reportText is the strict audit of c in every format.
func reportText(t *testing.T, c *testenv.Cluster, spec *model.Cluster) string {
	t.Helper()
	r := Run(t.Context(), &model.Desired{Clusters: []*model.Cluster{spec}}, superCollector(t, c), Options{Profile: ProfileStrict})
	var all bytes.Buffer
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return r.WriteHTML(b) },
		func(b *bytes.Buffer) error { return r.WriteMarkdown(b) },
		func(b *bytes.Buffer) error { return r.WriteJSON(b) },
	} {
		if err := write(&all); err != nil {
			t.Fatal(err)
		}
	}
	return all.String()
}

func noSecretIn(t *testing.T, c *testenv.Cluster, out, where string) {
	t.Helper()
	for _, secret := range []string{"archive-secret-value", "ldap-secret-value", "radius-secret-value", "legacy-secret-value", "SCRAM-SHA-256$", "md5" + "0",
		c.SuperPassword, c.MonitorPassword, c.ReplPassword, c.PostgresPassword} {
		if strings.Contains(out, secret) {
			t.Errorf("the report %s holds %q", where, secret)
		}
	}
}

// The collector's hooks are where PgBouncer and Patroni plug in: what
// they return is the evidence their checks judge.
func TestPoolerAndPatroniHooks(t *testing.T) {
	c := fresh(t)
	spec := specOf(c)
	spec.Instances[0].Pooler.Enabled = true
	spec.Patroni = model.PatroniSpec{Enabled: true, Mode: "default", Port: 8008}
	col := superCollector(t, c)
	col.Pooler = func(_ context.Context, in *model.Instance) *Pooler {
		return &Pooler{Addr: in.IP + ":6432", ClientTLSMode: "disable", AuthType: "scram-sha-256"}
	}
	col.Patroni = func(_ context.Context, _ *model.Cluster, in *model.Instance) *Patroni {
		return &Patroni{URL: "http://" + in.IP + ":8008", Role: "primary", Members: 2, Leader: in.Name(), MaxLag: 1 << 20,
			Member: []PatroniMember{{Name: in.Name(), Role: "leader", State: "running"}, {Name: "pg-other-2", Role: "replica", State: "streaming", Lag: ptr(int64(0))}}}
	}
	if v, _ := judge(t, col, spec, 1, "pgbouncer-tls"); v.Status != StatusFail || !strings.Contains(v.Why, "client_tls_sslmode disable") {
		t.Errorf("pgbouncer-tls with the hook = %s (%s)", v.Status, v.Why)
	}
	if v, _ := judge(t, col, spec, 1, "patroni-failover"); v.Status != StatusPass {
		t.Errorf("patroni-failover with the hook = %s (%s)", v.Status, v.Why)
	}
}

// hbaParsed reports whether the server parsed an HBA line of method
// (a build without LDAP shows an ldap line as an error).
func hbaParsed(h *HBA, method string) bool {
	for _, r := range h.Rows {
		if r.AuthMethod == method && r.Error == "" {
			return true
		}
	}
	return false
}
