package demo

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The README's five-minute tour, replayed against a demo kept running:
// every ```console block's commands run in order, in the checkout, with the
// environment the demo printed, and what they print must be what the README
// shows, once the values that differ from run to run (commit ids, key
// fingerprints, timestamps, counters, ports, paths, column widths) are
// blanked on both sides. A README block with a "…" line shows a part of the
// output, in order; one without must be the whole output.

// block is a fenced block of the tour.
type block struct {
	lang string
	cmds []tourCmd // console blocks
	text []string  // other blocks
}

type tourCmd struct {
	line string   // after "$ "
	want []string // the output the README shows
}

func tourBlocks(t *testing.T, readme string) []block {
	t.Helper()
	start := strings.Index(readme, "\n## Five-minute tour\n")
	if start < 0 {
		t.Fatal("README.md has no Five-minute tour")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var blocks []block
	var cur *block
	for _, l := range strings.Split(section, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &block{lang: strings.TrimPrefix(l, "```")}
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil && cur.lang == "console" && strings.HasPrefix(l, "$ "):
			cur.cmds = append(cur.cmds, tourCmd{line: l[2:]})
		case cur != nil && cur.lang == "console" && len(cur.cmds) > 0:
			c := &cur.cmds[len(cur.cmds)-1]
			c.want = append(c.want, l)
		case cur != nil:
			cur.text = append(cur.text, l)
		}
	}
	return blocks
}

// volatile are the values that differ from run to run.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+`), "SCRAM"},
	{regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`), "SHA256:KEY"},
	{regexp.MustCompile(`\b[0-9a-f]{40}\b`), "H40"},
	{regexp.MustCompile(`\b[0-9a-f]{12}\b`), "H12"},
	{regexp.MustCompile(`\b[0-9a-f]{7}\b`), "H7"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d)?`), "TIME"},
	{regexp.MustCompile(`(?m)^(pgreconciler_\S+) [0-9.e+-]+$`), "$1 N"},
	{regexp.MustCompile(`-{2,}`), "--"},
	{regexp.MustCompile(`[ \t]+`), " "},
}

func normalize(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, v := range volatile {
			l = v.re.ReplaceAllString(l, v.with)
		}
		out = append(out, strings.TrimSpace(l))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// shows reports whether got is what the README shows: equal, or when want
// has "…" lines, the other lines of want in order within got.
func shows(want, got []string) bool {
	want, got = normalize(want), normalize(got)
	elided := false
	var parts []string
	for _, w := range want {
		if w == "…" {
			elided = true
			continue
		}
		parts = append(parts, w)
	}
	if !elided {
		return strings.Join(want, "\n") == strings.Join(got, "\n")
	}
	i := 0
	for _, g := range got {
		if i < len(parts) && g == parts[i] {
			i++
		}
	}
	return i == len(parts)
}

func replayTour(t *testing.T, checkout string, d narration) {
	readme, err := os.ReadFile(filepath.Join(checkout, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := tourBlocks(t, string(readme))
	if len(blocks) < 10 {
		t.Fatalf("the tour has %d blocks", len(blocks))
	}
	// The first block is the demo's own keep block: it gives the README's
	// values (checkout, ports, directories) to map the live ones to.
	keep := blocks[0]
	if len(keep.cmds) != 1 || keep.cmds[0].line != "DEMO_KEEP=1 make demo" {
		t.Fatalf("the tour does not start with DEMO_KEEP=1 make demo: %+v", keep)
	}
	readmeD := parseNarration(t, strings.Join(keep.cmds[0].want, "\n"))
	readmeCheckout := regexp.MustCompile(`PATH=(\S+)/bin:`).FindStringSubmatch(readmeD.exports)
	liveCheckout := regexp.MustCompile(`PATH=(\S+)/bin:`).FindStringSubmatch(d.exports)
	if readmeCheckout == nil || liveCheckout == nil {
		t.Fatalf("no PATH in %q or %q", readmeD.exports, d.exports)
	}
	// The tour's commands name the README's listen address and psql line;
	// outputs name the live ones.
	readmePort, livePort := pgPort(t, readmeD.psql), pgPort(t, d.psql)
	toLive := strings.NewReplacer(readmeD.psql, d.psql, "localhost:"+listenPort(readmeD.listen), d.listen, readmeD.listen, d.listen)
	toReadme := strings.NewReplacer(liveCheckout[1], readmeCheckout[1], d.servers, readmeD.servers, d.psql, readmeD.psql,
		d.listen, readmeD.listen, ":"+livePort, ":"+readmePort, "port="+livePort, "port="+readmePort)
	demoOut := strings.Split(toReadme.Replace(d.out), "\n")
	if !shows(keep.cmds[0].want, demoOut) {
		t.Errorf("the README shows DEMO_KEEP=1 make demo ending with\n%s\nthe demo printed\n%s",
			strings.Join(keep.cmds[0].want, "\n"), tail(strings.Join(demoOut, "\n"), 12))
	}

	var verifier string
	lastCode := 0
	for _, b := range blocks[1:] {
		if b.lang == "cue" {
			editLikeTour(t, checkout, b.text, verifier)
			continue
		}
		for _, c := range b.cmds {
			line := toLive.Replace(c.line)
			want := c.want
			var got string
			switch {
			case c.line == "echo $?": // the exit code of the command before
				got = strconv.Itoa(lastCode) + "\n"
			case strings.HasPrefix(c.line, "reconciler passwd "):
				// The prompts go to a terminal only; here the password is a line on stdin.
				for len(want) > 0 && strings.HasSuffix(want[0], ":") {
					want = want[1:]
				}
				cmd := exec.Command("sh", "-c", d.exports+"\n"+line)
				cmd.Dir, cmd.Stdin = checkout, strings.NewReader("batch-jobs-password\n")
				b, err := cmd.CombinedOutput()
				got, lastCode = string(b), exitCode(err)
				verifier = strings.TrimSpace(got)
			default:
				got, lastCode = shell(t, checkout, d.exports, line)
			}
			gotLines := strings.Split(toReadme.Replace(got), "\n")
			if !shows(want, gotLines) {
				t.Errorf("$ %s\nthe README shows:\n%s\nit printed (exit %d):\n%s", c.line, strings.Join(want, "\n"), lastCode, got)
			}
			if strings.HasPrefix(c.line, "git ") && strings.Contains(c.line, " commit -S") {
				waitApplied(t, checkout, d.listen)
			}
		}
	}
}

func listenPort(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func pgPort(t *testing.T, psql string) string {
	t.Helper()
	m := regexp.MustCompile(`port=(\d+)`).FindStringSubmatch(psql)
	if m == nil {
		t.Fatalf("no port in %q", psql)
	}
	return m[1]
}

// editLikeTour makes the edit the tour describes with a cue block: its
// dbuser_batch line (with the verifier the tour's passwd printed) goes
// first in pg_users, and each other "key: value" line replaces the line
// setting that key.
func editLikeTour(t *testing.T, checkout string, lines []string, verifier string) {
	t.Helper()
	file := filepath.Join(checkout, ".demo", "repo", "pg-test.cue")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case l == "…" || l == "":
		case strings.HasPrefix(l, "{name: "):
			if verifier == "" {
				t.Fatal("the tour's cue block comes before its passwd")
			}
			l = regexp.MustCompile(`"SCRAM-SHA-256[^"]*"`).ReplaceAllLiteralString(l, `"`+verifier+`"`)
			s = strings.Replace(s, "pg_users: [\n", "pg_users: [\n\t\t\t"+l+"\n", 1)
		default:
			key, _, ok := strings.Cut(l, ":")
			re := regexp.MustCompile(`(?m)^(\s*)` + regexp.QuoteMeta(key) + `:.*$`)
			if !ok || !re.MatchString(s) {
				t.Fatalf("the tour's cue line %q sets nothing in pg-test.cue", l)
			}
			s = re.ReplaceAllString(s, "${1}"+l)
		}
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitApplied waits until the daemon reports every cluster on the
// repository's HEAD with no drift, as the tour expects after a signed
// commit.
func waitApplied(t *testing.T, checkout, listen string) {
	t.Helper()
	head, err := exec.Command("git", "-C", filepath.Join(checkout, ".demo", "repo"), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var status struct {
			Clusters []struct {
				Commit string
				Drift  map[string]int
			}
		}
		resp, err := http.Get("http://" + listen + "/status")
		if err != nil {
			continue
		}
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err == nil && len(status.Clusters) == 1 && status.Clusters[0].Commit == strings.TrimSpace(string(head)) && len(status.Clusters[0].Drift) == 0 {
			return
		}
	}
	t.Fatalf("the daemon did not apply %s within a minute", head)
}
