package audit

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

var screenshot = flag.String("screenshot", "", "also write the report's screenshot to this `file` (go test ./internal/audit -run TestReportInChromium -screenshot $PWD/docs/audit-report.png)")

// lab configures the shared cluster the way a Pigsty fleet on its oltp
// defaults looks (the tiers, the spec's HBA, the audit parameters, WAL
// archiving) and records a few changes, one of them out of band; it
// returns the report of a strict audit since an hour ago.
func lab(t *testing.T) *Report {
	t.Helper()
	c := fresh(t)
	r := newSpecRepo(t)
	spec := specOf(c)
	for i, s := range c.Servers() {
		setHBA(t, s, renderedHBA(t, spec, i+1))
		alterSystem(t, s, "log_statement", "ddl", "log_min_duration_statement", "100ms", "log_lock_waits", "on",
			"log_replication_commands", "on")
	}
	execSQL(t, c.Primary,
		"CREATE ROLE dbrole_readonly NOLOGIN", "CREATE ROLE dbrole_offline NOLOGIN",
		"CREATE ROLE dbrole_readwrite NOLOGIN IN ROLE dbrole_readonly",
		"CREATE ROLE dbrole_admin NOLOGIN IN ROLE pg_monitor, dbrole_readwrite",
		"GRANT pg_monitor, dbrole_readonly TO replicator", "GRANT dbrole_admin TO dbuser_dba",
		"GRANT dbrole_readonly TO dbuser_monitor")
	archiveTo(t, c, spec)
	waitStreaming(t, c)
	conn, err := c.Primary.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	at := time.Now().Add(-20 * time.Minute)
	if err := apply.RecordObserved(t.Context(), conn, []apply.Observed{{At: at, Cluster: c.Name, Instance: c.Primary.Name(),
		Kind: "role", Object: "dbuser_monitor", Action: "alter", What: "rolcreaterole: false -> true", Commit: r.merge}}); err != nil {
		t.Fatal(err)
	}
	for _, row := range [][3]string{{"dbrole_admin", r.merge, r.reviewerID}, {"dbuser_monitor", r.signed, r.authorID}} {
		if _, err := conn.Exec(t.Context(), `INSERT INTO pgreconciler.change_log (at, cluster, instance, kind, action, object, statement, commit, signer, author, status, error)
			VALUES ($1, $2, $3, 'role', 'alter', $4, '', $5, $6, 'A U Thor <author@example.com>', 'applied', '')`,
			at, c.Name, c.Primary.Name(), row[0], row[1], row[2]); err != nil {
			t.Fatal(err)
		}
	}
	col := superCollector(t, c)
	col.Since = time.Now().Add(-time.Hour)
	return Run(t.Context(), &model.Desired{Clusters: []*model.Cluster{spec}}, col,
		Options{Profile: ProfileStrict, Since: col.Since, Commit: r.merge, Signer: r.reviewerID, Verifier: r.src})
}

// chromium runs Debian's chromium headless on a page with the flags that
// keep it off the network and away from the user's profile.
func chromium(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (make deps): %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// The HTML report in a real browser: it loads offline (no script, no
// external resource), the text an auditor reads is on the page, a
// screenshot shows the summary tables, and it prints to PDF.
func TestReportInChromium(t *testing.T) {
	rep := lab(t)
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, re := range []string{`<script`, `<link`, `<img`, `<iframe`, `src=`, `href="http`, `url\(`, `@import`} {
		if regexp.MustCompile(re).MatchString(html) {
			t.Errorf("the report refers to an outside resource or runs code: %s", re)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(chromium(t, file, "--dump-dom"))
	texts := []string{
		"Compliance evidence: MLPS Level 3 and SOC 2, judged on the live servers",
		"Summary: MLPS Level 3", "Summary: SOC 2", "Controls in detail", "Chain of custody",
		"a required check fails", "profile <b>strict</b>",
		"Communication Encryption", "CC9.1 Business Continuity", "A1.2 Data Recovery",
		"passwordcheck or credcheck is loaded", "names the instance and is valid for",
		"out of band", "rolcreaterole: false -&gt; true", "yes, branch by",
		"pg-audit-1", "pg-audit-2",
	}
	for _, c := range Controls() {
		texts = append(texts, c.Name)
	}
	for _, want := range texts {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	chromium(t, file, "--hide-scrollbars", "--window-size=1280,1650", "--screenshot="+shot)
	checkScreenshot(t, shot, 1280, 1650)
	if *screenshot != "" {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	pdf := filepath.Join(dir, "report.pdf")
	chromium(t, file, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || bytes.Count(b, []byte("/Type /Page\n"))+
		bytes.Count(b, []byte("/Type /Page "))+bytes.Count(b, []byte("/Type/Page")) < 2 {
		t.Errorf("the printed report is not a PDF of several pages (%d bytes)", len(b))
	}
}

// checkScreenshot decodes the PNG and checks its size and that it is not
// a blank page: the status badges paint green and red.
func checkScreenshot(t *testing.T, file string, w, h int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	var green, red int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case g > 100 && r < 60 && bl < 80: // #1a7f37
				green++
			case r > 170 && g < 70 && bl < 70: // #c62828
				red++
			}
		}
	}
	if green < 200 || red < 200 {
		t.Errorf("the screenshot shows %d green and %d red pixels: the summary's badges are not painted", green, red)
	}
}
