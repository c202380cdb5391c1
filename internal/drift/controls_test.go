package drift

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The audit's series: 1 pass, 0 fail; a control that is no longer judged
// (unknown, not applicable, an instance gone) loses its series at the
// next audit, and a cluster that leaves loses them all.
func TestControlRecorder(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	r, err := NewControlRecorder(reg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	r.SetControls("pg-test", []ControlSample{
		{Instance: "pg-test-1", Control: "MLPS3-DataIntegrity", Pass: true},
		{Instance: "pg-test-1", Control: "SOC2-CC6.6", Pass: false},
		{Instance: "pg-test-2", Control: "MLPS3-DataIntegrity", Pass: true},
	}, at)
	r.SetControls("pg-meta", []ControlSample{{Instance: "pg-meta-1", Control: "MLPS3-DataIntegrity", Pass: false}}, at)
	r.SetControls("pg-test", []ControlSample{
		{Instance: "pg-test-1", Control: "MLPS3-DataIntegrity", Pass: false},
		{Instance: "pg-test-1", Control: "SOC2-CC6.6", Pass: true},
	}, at.Add(time.Hour))
	compare(t, reg, `
# HELP pgreconciler_audit_last_run_timestamp_seconds Unix time at which the last compliance audit of a cluster finished.
# TYPE pgreconciler_audit_last_run_timestamp_seconds gauge
pgreconciler_audit_last_run_timestamp_seconds{cluster="pg-meta"} 1.7e+09
pgreconciler_audit_last_run_timestamp_seconds{cluster="pg-test"} 1.7000036e+09
# HELP pgreconciler_control_status Compliance control of the security reference (MLPS Level 3, SOC 2) on an instance at the last audit: 1 pass, 0 fail; absent when unknown or not applicable.
# TYPE pgreconciler_control_status gauge
pgreconciler_control_status{cluster="pg-meta",control="MLPS3-DataIntegrity",instance="pg-meta-1"} 0
pgreconciler_control_status{cluster="pg-test",control="MLPS3-DataIntegrity",instance="pg-test-1"} 0
pgreconciler_control_status{cluster="pg-test",control="SOC2-CC6.6",instance="pg-test-1"} 1
`, "pgreconciler_control_status", "pgreconciler_audit_last_run_timestamp_seconds")

	r.ForgetCluster("pg-test")
	compare(t, reg, `
# HELP pgreconciler_audit_last_run_timestamp_seconds Unix time at which the last compliance audit of a cluster finished.
# TYPE pgreconciler_audit_last_run_timestamp_seconds gauge
pgreconciler_audit_last_run_timestamp_seconds{cluster="pg-meta"} 1.7e+09
# HELP pgreconciler_control_status Compliance control of the security reference (MLPS Level 3, SOC 2) on an instance at the last audit: 1 pass, 0 fail; absent when unknown or not applicable.
# TYPE pgreconciler_control_status gauge
pgreconciler_control_status{cluster="pg-meta",control="MLPS3-DataIntegrity",instance="pg-meta-1"} 0
`, "pgreconciler_control_status", "pgreconciler_audit_last_run_timestamp_seconds")

	if _, err := NewControlRecorder(reg); err == nil {
		t.Error("a second ControlRecorder on the same registry was accepted")
	}
}
