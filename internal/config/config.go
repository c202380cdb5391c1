package config

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"go.yaml.in/yaml/v3"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Config is the daemon's configuration.
type Config struct {
	Listen        string     `yaml:"listen" json:"listen"`
	StateDir      string     `yaml:"state_dir" json:"state_dir"`
	CacheDir      string     `yaml:"cache_dir" json:"cache_dir"`
	LogFormat     string     `yaml:"log_format" json:"log_format"`
	DriftInterval Duration   `yaml:"drift_interval" json:"drift_interval"`
	Concurrency   int        `yaml:"concurrency" json:"concurrency"`
	Profile       string     `yaml:"profile" json:"profile"`
	Sources       []Source   `yaml:"sources" json:"sources"`
	Trust         Trust      `yaml:"trust" json:"trust"`
	Connection    Connection `yaml:"connection" json:"connection"`
	HBA           HBA        `yaml:"hba" json:"hba"`
	Modes         Modes      `yaml:"modes" json:"modes"`
	Patroni       Patroni    `yaml:"patroni" json:"patroni"`
	Audit         Audit      `yaml:"audit" json:"audit"` // the periodic compliance audit (audit.go)

	// ImpactLogWindow, when set, makes every inspection also read the
	// connections the servers logged within it (log_connections, csvlog),
	// for the plans' impact preview and the impact hold; 0 reads none.
	ImpactLogWindow Duration `yaml:"impact_log_window" json:"impact_log_window"`

	// MemoryLimit is the Go runtime's soft memory limit for the daemon
	// (debug.SetMemoryLimit); GOMEMLIMIT in the environment wins.
	MemoryLimit ByteSize `yaml:"memory_limit" json:"memory_limit"`

	// Shard is the part of the fleet this daemon owns: "" (all), "I/N"
	// or "auto" (a StatefulSet pod's ordinal; ResolveShard).
	Shard string `yaml:"shard" json:"shard"`

	// MaxSessions caps the PostgreSQL sessions open at once over all
	// reconciles (0: no cap but concurrency).
	MaxSessions int `yaml:"max_sessions" json:"max_sessions"`

	// SessionIdle is how long a drift check's session to an instance is
	// kept, unused, for the next check to reuse (observe mode only);
	// "off" opens a new one every check.
	SessionIdle Idle `yaml:"session_idle" json:"session_idle"`

	// ChangeLog is the change log's retention (retention.go).
	ChangeLog ChangeLog `yaml:"change_log" json:"change_log"`

	// Pprof serves Go's profiles at /debug/pprof/ on the listen address
	// (read at start; off by default: they show the daemon's internals).
	Pprof bool `yaml:"pprof" json:"pprof"`

	file string         // the file it was read from, for messages
	pos  map[string]Pos // where each key is written (positions.go)
}

// Source is one spec repository to follow.
type Source struct {
	Name              string   `yaml:"name" json:"name"`
	URL               string   `yaml:"url" json:"url"`
	Branch            string   `yaml:"branch" json:"branch"`
	Tag               string   `yaml:"tag" json:"tag"`
	Path              string   `yaml:"path" json:"path"`
	PollInterval      Duration `yaml:"poll_interval" json:"poll_interval"`
	Auth              Auth     `yaml:"auth" json:"auth"`
	WebhookSecretFile string   `yaml:"webhook_secret_file" json:"webhook_secret_file"`
	// AllowRewind accepts a target that does not descend from the last
	// applied commit (a deliberate rollback). Set it for one reload, then
	// remove it.
	AllowRewind bool `yaml:"allow_rewind" json:"allow_rewind"`
}

// Auth are the credentials for a remote repository.
type Auth struct {
	Username     string `yaml:"username" json:"username"`
	PasswordFile string `yaml:"password_file" json:"password_file"`
	SSHKey       string `yaml:"ssh_key" json:"ssh_key"`
	KnownHosts   string `yaml:"known_hosts" json:"known_hosts"`
}

// Trust names the keys allowed to sign spec commits, and the history
// policy. They never come from the repository being verified.
type Trust struct {
	Mode           string   `yaml:"mode" json:"mode"`
	AllowedSigners string   `yaml:"allowed_signers" json:"allowed_signers"`
	PGPKeys        []string `yaml:"pgp_keys" json:"pgp_keys"`
}

// Connection holds libpq-style defaults for every instance, and
// per-cluster overrides.
type Connection struct {
	Settings `yaml:",inline"`
	Clusters map[string]Settings `yaml:"clusters" json:"clusters"`
}

// Settings are libpq connection settings.
type Settings struct {
	User           string   `yaml:"user" json:"user"`
	Passfile       string   `yaml:"passfile" json:"passfile"`
	SSLMode        string   `yaml:"sslmode" json:"sslmode"`
	SSLRootCert    string   `yaml:"sslrootcert" json:"sslrootcert"`
	SSLCert        string   `yaml:"sslcert" json:"sslcert"`
	SSLKey         string   `yaml:"sslkey" json:"sslkey"`
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
}

// HBA chooses how pg_hba.conf is written.
type HBA struct {
	Writer     string `yaml:"writer" json:"writer"`
	SSHUser    string `yaml:"ssh_user" json:"ssh_user"`
	SSHKey     string `yaml:"ssh_key" json:"ssh_key"`
	KnownHosts string `yaml:"known_hosts" json:"known_hosts"`
	SSHPort    int    `yaml:"ssh_port" json:"ssh_port"`
}

// Modes says, per drift class, whether drift is applied or only observed.
type Modes struct {
	User      string `yaml:"user" json:"user"`
	Database  string `yaml:"database" json:"database"`
	Privilege string `yaml:"privilege" json:"privilege"`
	Parameter string `yaml:"parameter" json:"parameter"`
	HBA       string `yaml:"hba" json:"hba"`
	// PgBouncer is the pooler beside each instance: apply, observe, or off
	// (the default: poolers are neither read nor written).
	PgBouncer string `yaml:"pgbouncer" json:"pgbouncer"`
}

// Mode values.
const (
	ModeApply   = "apply"
	ModeObserve = "observe"
	ModeOff     = "off" // modes.pgbouncer only: the poolers are left alone
)

// Of returns the mode of a drift class.
func (m Modes) Of(class model.DriftClass) string {
	switch class {
	case model.DriftUser:
		return m.User
	case model.DriftDatabase:
		return m.Database
	case model.DriftPrivilege:
		return m.Privilege
	case model.DriftParameter:
		return m.Parameter
	case model.DriftHBA:
		return m.HBA
	case model.DriftPgBouncer:
		return m.PgBouncer
	}
	return ModeObserve
}

// AnyApply reports whether some class is in apply mode.
func (m Modes) AnyApply() bool {
	for _, c := range model.DriftClasses() {
		if m.Of(c) == ModeApply {
			return true
		}
	}
	return false
}

// SetAll sets every class to mode; PgBouncer only when it is already
// managed (apply or observe): poolers are never turned on by it.
func (m *Modes) SetAll(mode string) {
	m.User, m.Database, m.Privilege, m.Parameter, m.HBA = mode, mode, mode, mode, mode
	if m.PgBouncer == ModeApply || m.PgBouncer == ModeObserve {
		m.PgBouncer = mode
	}
}

// Duration is a time.Duration written as "60s", "5m".
type Duration time.Duration

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (write e.g. 30s, 5m)", b)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Defaults fills in what the file leaves out.
func (c *Config) Defaults() {
	or := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	or(&c.Listen, ":9910")
	or(&c.StateDir, "/var/lib/pgreconciler")
	or(&c.CacheDir, filepath.Join(c.StateDir, "cache"))
	or(&c.LogFormat, "text")
	or(&c.Profile, "baseline")
	or(&c.Trust.Mode, "strict")
	or(&c.HBA.Writer, "local")
	if c.DriftInterval == 0 {
		c.DriftInterval = Duration(60 * time.Second)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = DefaultSessionIdle
	}
	c.Audit.defaults()
	if c.MemoryLimit == 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	if c.HBA.SSHPort == 0 {
		c.HBA.SSHPort = 22
	}
	if c.HBA.Writer == "ssh" {
		or(&c.HBA.SSHUser, "postgres")
	}
	for _, m := range []*string{&c.Modes.User, &c.Modes.Database, &c.Modes.Privilege, &c.Modes.Parameter, &c.Modes.HBA} {
		or(m, ModeApply)
	}
	or(&c.Modes.PgBouncer, ModeOff)
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.PollInterval == 0 {
			s.PollInterval = Duration(time.Minute)
		}
		if s.Branch == "" && s.Tag == "" {
			s.Branch = "main"
		}
	}
}

var sourceName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Check reports every problem of a configuration (after Defaults), each
// at the line of its key, one per line.
func (c *Config) Check() error { return c.Problems().Err() }

// Problems lists every problem of a configuration (after Defaults). It
// reads no file: the files it names are judged by internal/preflight.
func (c *Config) Problems() Problems {
	var errs Problems
	// Every message starts with the key it is about.
	bad := func(format string, args ...any) { errs = append(errs, c.problemOf(fmt.Sprintf(format, args...))) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port (e.g. :9910)", c.Listen)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format: %q: want text or json", c.LogFormat)
	}
	if c.Concurrency < 1 {
		bad("concurrency: %d: want at least 1", c.Concurrency)
	}
	if c.MaxSessions < 0 {
		bad("max_sessions: %d: want 0 (no cap) or more", c.MaxSessions)
	}
	if c.MemoryLimit != NoLimit && c.MemoryLimit < minMemoryLimit {
		bad("memory_limit: %s: want at least %s, or off", c.MemoryLimit, minMemoryLimit)
	}
	if _, err := ResolveShard(c.Shard, os.Getenv); err != nil {
		bad("shard: %v", err)
	}
	if c.ChangeLog.MaxRows < 0 {
		bad("change_log.max_rows: %d: want 0 (no limit) or more", c.ChangeLog.MaxRows)
	}
	if c.DriftInterval.D() < time.Second {
		bad("drift_interval: %s: want at least 1s", c.DriftInterval.D())
	}
	if c.ImpactLogWindow.D() < 0 {
		bad("impact_log_window: %s: want 0 (off) or a positive duration", c.ImpactLogWindow.D())
	}
	checkProfile(bad, "profile", c.Profile)
	c.Audit.problems(bad)
	if len(c.Sources) == 0 {
		bad("sources: at least one source is needed")
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d]", i)
		switch {
		case !sourceName.MatchString(s.Name):
			bad("%s.name: %q: letters, digits, '.', '_' and '-' only", where, s.Name)
		case names[s.Name]:
			bad("%s.name: %q is used twice", where, s.Name)
		}
		names[s.Name] = true
		if s.URL == "" {
			bad("%s.url: a repository URL or local path is required", where)
		}
		if s.Branch != "" && s.Tag != "" {
			bad("%s: follow a branch or a tag, not both", where)
		}
		if s.PollInterval.D() < time.Second {
			bad("%s.poll_interval: %s: want at least 1s", where, s.PollInterval.D())
		}
	}
	switch c.Trust.Mode {
	case "strict", "head":
	default:
		bad("trust.mode: %q: want strict or head", c.Trust.Mode)
	}
	if c.Trust.AllowedSigners == "" && len(c.Trust.PGPKeys) == 0 {
		bad("trust: no trusted keys (allowed_signers or pgp_keys): the daemon applies only signed commits")
	}
	switch c.HBA.Writer {
	case "local":
	case "ssh":
		if c.HBA.SSHKey == "" || c.HBA.KnownHosts == "" {
			bad("hba: the ssh writer needs ssh_key and known_hosts (host keys are pinned, never trusted on first use)")
		}
	default:
		bad("hba.writer: %q: want local or ssh", c.HBA.Writer)
	}
	for _, class := range model.DriftClasses() {
		mode := c.Modes.Of(class)
		switch {
		case class == model.DriftPgBouncer && mode != ModeApply && mode != ModeObserve && mode != ModeOff:
			bad("modes.%s: %q: want apply, observe or off", class, mode)
		case class != model.DriftPgBouncer && mode != ModeApply && mode != ModeObserve:
			bad("modes.%s: %q: want apply or observe", class, mode)
		}
	}
	return errs
}

// Load reads a configuration file (.yml/.yaml, or .cue), applies the
// defaults and checks it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Parse reads configuration data; the name decides the format. A file
// that decodes but does not pass Check is an error listing every problem
// at its file:line:col.
func Parse(name string, data []byte) (*Config, error) {
	c, err := Decode(name, data)
	if err != nil {
		return nil, err
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

// Decode reads configuration data and applies the defaults, without
// Check, so that a caller can report Check's problems together with
// others (`reconciler run --check-config`).
func Decode(name string, data []byte) (*Config, error) {
	c := &Config{file: name}
	if strings.HasSuffix(name, ".cue") {
		v := cuecontext.New().CompileBytes(data, cue.Filename(name))
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("config %s: %s", name, strings.TrimSpace(cueerrors.Details(err, nil)))
		}
		j, err := v.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("config %s: %s", name, strings.TrimSpace(cueerrors.Details(err, nil)))
		}
		c.pos = cuePositions(name, v)
		data = j // JSON is YAML: one strict decoder for both
	} else {
		c.pos = yamlPositions(name, data)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("config %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.Defaults()
	return c, nil
}

// File is the file the configuration was read from ("" when built from
// flags).
func (c *Config) File() string { return c.file }
