package testenv

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ScrapeSum fetches a Prometheus text exposition from url and returns the
// sum of the samples of metric name whose labels contain every fragment in
// labels (`cluster="pg-test"`), or -1 when there is none (or the scrape
// fails). Tests and the demo use it to wait for what the daemon reports.
func ScrapeSum(url, name string, labels ...string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}
