package audit

import (
	"strings"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/testenv"
)

// A one-server cluster of its own, for what the shared cluster cannot be
// put through: data checksums off (initdb without them: pg_checksums is
// not in every build), listening on every interface (the shared
// cluster's servers share one port), and a cluster without replicas.
func TestSingleServer(t *testing.T) {
	c := testenv.NewCluster(t, testenv.Options{Name: "pg-audit-one", Replicas: -1, BaseIP: 125, NoDataChecksums: true})
	spec := specOf(c)
	col := superCollector(t, c)
	expect := func(t *testing.T, id string, want Status, why string) {
		t.Helper()
		v, ev := judge(t, col, spec, 1, id)
		if v.Status != want || !strings.Contains(v.Why, why) {
			t.Fatalf("%s = %s (%s), want %s (%q)\nevidence: %+v\nunread: %v", id, v.Status, v.Why, want, why, v.Evidence, ev.Unread)
		}
	}

	t.Run("data-checksums", func(t *testing.T) {
		// The shared cluster was initialised with them, this one without.
		shared := fresh(t)
		if v, _ := judge(t, superCollector(t, shared), specOf(shared), 1, "data-checksums"); v.Status != StatusPass || !strings.Contains(v.Why, "carries a checksum") {
			t.Errorf("data-checksums on %s = %s (%s), want pass", shared.Primary.Name(), v.Status, v.Why)
		}
		expect(t, "data-checksums", StatusFail, "data checksums are off")
	})

	t.Run("listen-addresses everywhere", func(t *testing.T) {
		alterSystem(t, c.Primary, "listen_addresses", "*")
		restart(t, c.Primary)
		setHBA(t, c.Primary, "local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\n")
		expect(t, "listen-addresses", StatusPass, "only SSL rules admit clients from outside the intranet")
		setHBA(t, c.Primary, "local all all trust\nhost all all 0.0.0.0/0 scram-sha-256\n")
		expect(t, "listen-addresses", StatusFail, "listens on every interface and line 2 admits 0.0.0.0/0 without SSL")
	})

	t.Run("replicas-streaming without replicas", func(t *testing.T) {
		expect(t, "replicas-streaming", StatusFail, "the cluster has no replica")
	})
}
