package spec

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// The patroni_* variables with Pigsty's defaults, the restart policy, and
// a policy or window the reconciler cannot read refused with where.
func TestPatroniVariables(t *testing.T) {
	d := mustLoadYAML(t, `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a}
    pg-b:
      hosts: {10.0.0.2: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-b, patroni_mode: remove, patroni_port: 18008, patroni_ssl_enabled: true,
             patroni_username: api, patroni_password: Api.Secret, reconciler_restart: scheduled, reconciler_restart_window: "01:30"}
`)
	a, b := d.Cluster("pg-a").Patroni, d.Cluster("pg-b").Patroni
	want := model.PatroniSpec{Enabled: true, Mode: "default", Port: 8008, Username: "postgres",
		Password: model.NewSecret("Patroni.API"), Restart: model.RestartNever, Window: 180}
	if a != want || !a.Managed() {
		t.Errorf("defaults: %+v", a)
	}
	want = model.PatroniSpec{Enabled: true, Mode: "remove", Port: 18008, SSL: true, Username: "api",
		Password: model.NewSecret("Api.Secret"), Restart: model.RestartScheduled, Window: 90}
	if b != want || b.Managed() {
		t.Errorf("set: %+v", b)
	}

	res := loadYAML(t, `
all:
  children:
    pg-a:
      hosts: {10.0.0.1: {pg_seq: 1, pg_role: primary}}
      vars: {pg_cluster: pg-a, reconciler_restart: always, reconciler_restart_window: "25:00"}
`)
	msg := res.Err().Error()
	for _, s := range []string{`pigsty.yml:6:`, `reconciler_restart "always": want never or scheduled`, `reconciler_restart_window: "25:00": want HH:MM, UTC`} {
		if !strings.Contains(msg, s) {
			t.Errorf("problems lack %q:\n%s", s, msg)
		}
	}
}
