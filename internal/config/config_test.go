package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

const good = `
listen: ":9910"
state_dir: /var/lib/pgreconciler
drift_interval: 30s
sources:
  - name: fleet
    url: https://git.example.com/dba/fleet.git
    poll_interval: 2m
    auth: { username: git, password_file: /etc/pgreconciler/git-token }
trust:
  allowed_signers: /etc/pgreconciler/allowed_signers
connection:
  user: dbuser_dba
  sslmode: verify-full
  clusters:
    pg-meta: { user: dbuser_meta_admin }
hba:
  writer: ssh
  ssh_key: /etc/pgreconciler/hba_ed25519
  known_hosts: /etc/pgreconciler/known_hosts
modes: { hba: observe }
`

func TestParseYAML(t *testing.T) {
	c, err := Parse("r.yml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.DriftInterval.D() != 30*time.Second || c.Sources[0].PollInterval.D() != 2*time.Minute || c.Sources[0].Branch != "main" {
		t.Errorf("durations/defaults: %+v", c)
	}
	if c.Connection.User != "dbuser_dba" || c.Connection.Clusters["pg-meta"].User != "dbuser_meta_admin" {
		t.Errorf("connection: %+v", c.Connection)
	}
	if c.Modes.Of("hba") != ModeObserve || c.Modes.Of("user") != ModeApply || c.HBA.SSHUser != "postgres" || c.Trust.Mode != "strict" {
		t.Errorf("modes/hba: %+v %+v", c.Modes, c.HBA)
	}
}

func TestParseCUE(t *testing.T) {
	c, err := Parse("r.cue", []byte(`
_interval: "45s"
drift_interval: _interval
sources: [{name: "local", url: "/srv/fleet"}]
trust: pgp_keys: ["/etc/keys/a.asc"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DriftInterval.D() != 45*time.Second || c.Sources[0].URL != "/srv/fleet" {
		t.Fatalf("%+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"r.yml", "listen: 9910\nsources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\n", "listen"},
		{"r.yml", "sorces: []\n", "field sorces not found"},
		{"r.yml", "sources: [{name: a, url: x, poll_interval: soon}]\ntrust: {allowed_signers: f}\n", "invalid duration"},
		{"r.yml", "sources: [{name: a, url: x}]\n", "no trusted keys"},
		{"r.yml", "sources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\nhba: {writer: ssh}\n", "ssh_key and known_hosts"},
		{"r.yml", "sources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\nmodes: {hba: heal}\n", "modes.hba"},
		{"r.yml", "sources: [{name: 'a b', url: x}, {name: c}]\ntrust: {allowed_signers: f}\n", "sources[1].url"},
		{"r.cue", "sources: [", "config r.cue"},
	} {
		_, err := Parse(tc.name, []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

// The documented examples parse.
func TestExamples(t *testing.T) {
	for _, f := range []string{"../../examples/reconciler.yml", "../../deploy/systemd/reconciler.yml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Every problem of Check is at the line and column of its key, in YAML
// and in CUE; a key that is not written is at the file.
func TestProblemPositions(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"r.yml", "listen: 9910\nsources:\n  - name: a\n    url: x\n    poll_interval: 1ms\ntrust: {allowed_signers: f}\nmodes: {hba: heal}\n"},
		{"r.cue", "listen: \"9910\"\nsources: [{\n\tname: \"a\"\n\turl: \"x\"\n\tpoll_interval: \"1ms\"}]\ntrust: allowed_signers: \"f\"\nmodes: hba: \"heal\"\n"},
	} {
		c, err := Decode(tc.name, []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range c.Problems() {
			got = append(got, p.Error())
		}
		want := []string{
			tc.name + `:1:9: listen: "9910" is not host:port (e.g. :9910)`,
			tc.name + `:5:20: sources[0].poll_interval: 1ms: want at least 1s`,
			tc.name + `:7:14: modes.hba: "heal": want apply or observe`,
		}
		if strings.HasSuffix(tc.name, ".cue") {
			want[1] = tc.name + `:5:17: sources[0].poll_interval: 1ms: want at least 1s`
			want[2] = tc.name + `:7:13: modes.hba: "heal": want apply or observe`
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, want)
		}
		if _, err := Parse(tc.name, []byte(tc.src)); err == nil || !strings.Contains(err.Error(), want[2]) {
			t.Errorf("%s: Parse: %v", tc.name, err)
		}
	}
	c, err := Decode("r.yml", []byte("trust: {allowed_signers: f}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Problems().Err().Error(); got != "r.yml: sources: at least one source is needed" {
		t.Errorf("unwritten key: %q", got)
	}
	if p := c.At("trust.pgp_keys[0]"); p.String() != "r.yml:1:1" {
		t.Errorf("a key that is not written is at its nearest written parent: %v", p)
	}
}

func TestMemoryLimit(t *testing.T) {
	base := "sources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\n"
	for _, tc := range []struct {
		name, src string
		want      ByteSize
	}{
		{"r.yml", base, DefaultMemoryLimit},
		{"r.yml", base + "memory_limit: 768MiB\n", 768 << 20},
		{"r.yml", base + "memory_limit: 2GiB\n", 2 << 30},
		{"r.yml", base + "memory_limit: 134217728\n", 128 << 20},
		{"r.yml", base + "memory_limit: off\n", NoLimit},
		{"r.cue", `sources: [{name: "a", url: "x"}], trust: allowed_signers: "f", memory_limit: "1TiB"`, 1 << 40},
		{"r.cue", `sources: [{name: "a", url: "x"}], trust: allowed_signers: "f", memory_limit: 100663296`, 96 << 20},
	} {
		c, err := Parse(tc.name, []byte(tc.src))
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if c.MemoryLimit != tc.want {
			t.Errorf("%q: memory_limit %s (%d), want %s", tc.src, c.MemoryLimit, c.MemoryLimit, tc.want)
		}
	}
	if NoLimit.Bytes() != 1<<63-1 || ByteSize(768<<20).String() != "768MiB" || ByteSize(1500).String() != "1500B" {
		t.Errorf("Bytes/String: %d %s %s", NoLimit.Bytes(), ByteSize(768<<20), ByteSize(1500))
	}
	for src, want := range map[string]string{
		base + "memory_limit: 512\n":                        "memory_limit: 512B: want at least 64MiB, or off",
		base + "memory_limit: 0\n":                          `invalid size "0"`,
		base + "memory_limit: 1GB\n":                        `invalid size "1GB"`,
		base + "memory_limit: -1GiB\n":                      `invalid size "-1GiB"`,
		base + "memory_limit: 1.5GiB\n":                     `invalid size "1.5GiB"`,
		base + "memory_limit: 99999999TiB\n":                `invalid size "99999999TiB"`,
		base + "memory_limit: lots\n":                       `invalid size "lots"`,
		base + "memory_limit: [1, 2]\n":                     "cannot unmarshal",
		base + "memory_limit: 64MiB\n" + "concurrency: 0\n": "", // 64 MiB is the floor, accepted
	} {
		_, err := Parse("r.yml", []byte(src))
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

func TestSessionIdle(t *testing.T) {
	base := "sources: [{name: a, url: x}]\ntrust: {allowed_signers: f}\n"
	for src, want := range map[string]string{
		base:                         "10m0s",
		base + "session_idle: 90s\n": "1m30s",
		base + "session_idle: off\n": "off",
		base + "session_idle: 0\n":   "off",
		base + "session_idle: 0s\n":  "off",
	} {
		c, err := Parse("r.yml", []byte(src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if got := c.SessionIdle.String(); got != want {
			t.Errorf("%q: session_idle %s, want %s", src, got, want)
		}
	}
	if IdleOff.D() != 0 || !IdleOff.Off() || Idle(time.Minute).D() != time.Minute {
		t.Errorf("D/Off: %v %v", IdleOff.D(), IdleOff.Off())
	}
	for _, src := range []string{"session_idle: -1m\n", "session_idle: soon\n", "session_idle: 10\n"} {
		if _, err := Parse("r.yml", []byte(base+src)); err == nil || !strings.Contains(err.Error(), "invalid duration") {
			t.Errorf("%q: error %v, want invalid duration", src, err)
		}
	}
}
