package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultMajor is the PostgreSQL major version the harness starts unless
// told otherwise: Pigsty v4's default (pg_version: 18).
const DefaultMajor = 18

// VersionEnv names the environment variable that chooses the major version
// the harness starts ("16"); `make test` and `make test-matrix` set it for
// each run of the version matrix.
const VersionEnv = "PGRECONCILER_PG_VERSION"

// Majors are the PostgreSQL major versions the harness supports, oldest
// first: those Pigsty v4 runs.
func Majors() []int { return []int{13, 14, 15, 16, 17, 18} }

// Major is the major version a cluster starts with when Options.Major is
// zero: $PGRECONCILER_PG_VERSION, else DefaultMajor.
func Major() (int, error) {
	v := strings.TrimSpace(os.Getenv(VersionEnv))
	if v == "" {
		return DefaultMajor, nil
	}
	return parseMajor(VersionEnv, v)
}

func parseMajor(what, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil {
		for _, m := range Majors() {
			if n == m {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("check %s: %q is not a supported PostgreSQL major version (%s)", what, v, majorList())
}

func majorList() string {
	var s []string
	for _, m := range Majors() {
		s = append(s, strconv.Itoa(m))
	}
	return strings.Join(s, ", ")
}

// programs are the binaries the harness runs (the npm builds have no psql
// and no pg_basebackup: the harness needs neither).
func programs() []string { return []string{"initdb", "postgres"} }

// binaries is one installed PostgreSQL.
type binaries struct {
	dir     string // holding initdb and postgres
	version string // as postgres --version says: "18.4"
	major   int
}

// cacheDir is where `make deps` unpacks each major (scripts/install-deps.sh
// computes the same): $PGRECONCILER_PG_CACHE, else /var/cache/pgreconciler/pg
// as root (the postgres OS user cannot enter /root), else the user's cache
// directory.
func cacheDir() string {
	if d := os.Getenv("PGRECONCILER_PG_CACHE"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/pgreconciler/pg"
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "pgreconciler", "pg")
}

// findBinaries returns the programs of PostgreSQL major: $PG_BINDIR when
// set (it must hold that major), else the Debian/PGDG directory
// /usr/lib/postgresql/<major>/bin, else the cache `make deps` fills. A
// distribution's build comes first: it is what a Pigsty fleet runs (PGDG
// packages), with GSSAPI, LDAP and PAM, which the npm builds lack. On
// Debian 12 that makes 15 Debian's and the other majors npm's.
func findBinaries(major int) (binaries, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		b, err := probe(dir)
		if err != nil {
			return b, fmt.Errorf("check PG_BINDIR: %w", err)
		}
		if b.major != major {
			return b, fmt.Errorf("check PG_BINDIR: %s holds PostgreSQL %s, not %d", dir, b.version, major)
		}
		return b, nil
	}
	var tried []string
	for _, dir := range []string{
		filepath.Join("/usr/lib/postgresql", strconv.Itoa(major), "bin"),
		filepath.Join(cacheDir(), strconv.Itoa(major), "bin"),
	} {
		b, err := probe(dir)
		if err == nil && b.major == major {
			return b, nil
		}
		if err == nil {
			err = fmt.Errorf("holds PostgreSQL %s", b.version)
		}
		tried = append(tried, err.Error())
	}
	return binaries{}, fmt.Errorf("find PostgreSQL %d (%s): %s; run `make deps` (scripts/install-deps.sh) or set PG_BINDIR",
		major, strings.Join(programs(), ", "), strings.Join(tried, "; "))
}

// versionLine matches postgres --version: "postgres (PostgreSQL) 18.4",
// "… 18beta1".
var versionLine = regexp.MustCompile(`\(PostgreSQL\) ((\d+)[.a-z0-9]*)`)

// probe checks that dir holds the programs and asks postgres its version.
func probe(dir string) (binaries, error) {
	for _, p := range programs() {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return binaries{}, fmt.Errorf("%s: no %s", dir, p)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return binaries{}, fmt.Errorf("%s/postgres --version: %w", dir, err)
	}
	m := versionLine.FindStringSubmatch(string(out))
	if m == nil {
		return binaries{}, fmt.Errorf("%s/postgres --version: unexpected %q", dir, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[2])
	return binaries{dir: dir, version: m[1], major: major}, nil
}
