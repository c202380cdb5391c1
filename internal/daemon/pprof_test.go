package daemon

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pgreconciler/pgreconciler/internal/config"
)

// TestPprofOnlyWhenAsked: /debug/pprof/ is served when pprof is set, and
// is not found otherwise.
func TestPprofOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		d, err := New(&config.Config{Pprof: on}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(d.handler())
		for path, want := range map[string]int{"/debug/pprof/": http.StatusOK, "/debug/pprof/goroutine?debug=1": http.StatusOK, "/debug/pprof/symbol": http.StatusOK} {
			if !on {
				want = http.StatusNotFound
			}
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("pprof %v: GET %s = %d, want %d", on, path, resp.StatusCode, want)
			}
		}
		srv.Close()
	}
}
