package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/daemon"
	"github.com/pgreconciler/pgreconciler/internal/preflight"
)

// runRun is the daemon: `reconciler run --config FILE`, or a single source
// from flags.
func runRun(e *env, args []string) int {
	fs := newFlags(e, "run", "run --config FILE [--check-config] | run --repo PATH|URL [--branch B] [--trusted-keys FILE]... [--allowed-signers FILE] [--mode apply|observe] [--drift-interval 60s] [--listen :9910] [--state-dir DIR] [--hba-writer local|ssh]")
	cfgFile := fs.String("config", "", "configuration `file` (YAML or CUE); SIGHUP reloads it")
	repo := fs.String("repo", "", "single-source setup: repository path or URL")
	branch := fs.String("branch", "main", "branch to follow")
	path := fs.String("path", "", "spec root inside the repository")
	var keys listFlag
	fs.Var(&keys, "trusted-keys", "armored OpenPGP public key `file` of a trusted signer (repeatable)")
	signers := fs.String("allowed-signers", "", "git allowed_signers `file` of trusted SSH signing keys")
	trustMode := fs.String("trust-mode", "strict", "history policy: strict or head")
	mode := fs.String("mode", "apply", "apply or observe: heal drift, or only report it")
	pgbMode := fs.String("pgbouncer", "off", "the PgBouncer beside each instance: apply, observe, or off (neither read nor written)")
	driftEvery := fs.Duration("drift-interval", time.Minute, "how often live clusters are checked for drift")
	poll := fs.Duration("poll-interval", time.Minute, "how often the repository is fetched")
	auditEvery := fs.Duration("audit-interval", config.DefaultAuditInterval, "how often the security controls are audited (pgreconciler_control_status)")
	listen := fs.String("listen", ":9910", "address of /metrics, /healthz, /readyz, /status and the webhooks")
	stateDir := fs.String("state-dir", "/var/lib/pgreconciler", "`dir`ectory for the last applied commit and the repository cache")
	hbaWriter := fs.String("hba-writer", "local", "how pg_hba.conf is written: local or ssh")
	sshUser := fs.String("ssh-user", "postgres", "ssh writer: login user")
	sshKey := fs.String("ssh-key", "", "ssh writer: private key `file`")
	knownHosts := fs.String("known-hosts", "", "ssh writer: known_hosts `file` pinning the hosts' keys")
	sshPort := fs.Int("ssh-port", 22, "ssh writer: port")
	webhookSecret := fs.String("webhook-secret-file", "", "`file` holding the webhook secret (enables /hooks/*)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	profile := fs.String("profile", "baseline", "policy profile every commit must pass: baseline, strict or none")
	concurrency := fs.Int("concurrency", 4, "clusters reconciled at once")
	maxSessions := fs.Int("max-sessions", 0, "PostgreSQL sessions open at once over all reconciles (0: no cap but --concurrency)")
	grace := fs.Duration("shutdown-grace", 30*time.Second, "how long SIGTERM waits for in-flight reconciles")
	checkOnly := fs.Bool("check-config", false, "judge the configuration and every file it names, print every problem and exit: 0 usable (warnings allowed), 1 problems")
	var pf patroniFlags
	pf.register(fs)
	shard := fs.String("shard", "", "own only the clusters of shard `I/N` (rendezvous hashing of their names), or auto: the StatefulSet pod's ordinal mod PGRECONCILER_SHARDS (default: shard of the file, else every cluster)")
	pprofOn := fs.Bool("pprof", false, "serve Go's runtime profiles at /debug/pprof/ on the --listen address (default: pprof of the file, else off)")
	sessionIdle := fs.String("session-idle", "", "how long a drift check's session to an instance is kept for the next check (observe mode): 10m, 90s, off (default: session_idle of the file, else 10m)")
	memLimit := fs.String("memory-limit", "", "soft memory `limit` of the Go runtime: 768MiB, 2GiB, off (default: memory_limit of the file, else 1GiB); GOMEMLIMIT wins")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if !oneOf(e.stderr, "log-format", *logFormat, "text", "json") || !oneOf(e.stderr, "mode", *mode, "apply", "observe") ||
		!oneOf(e.stderr, "pgbouncer", *pgbMode, "apply", "observe", "off") {
		return exitUsage
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if explicit["profile"] {
		if loader, code := newLoader(e, "run", *profile); loader == nil {
			return code
		}
	}
	// load reads the configuration and judges it and every file it names:
	// the same checks at start, on SIGHUP and for --check-config.
	load := func() (*config.Config, config.Problems, error) {
		var c *config.Config
		if *cfgFile != "" {
			data, err := os.ReadFile(*cfgFile)
			if err != nil {
				return nil, nil, fmt.Errorf("read config: %w", err)
			}
			if c, err = config.Decode(*cfgFile, data); err != nil {
				return nil, nil, err
			}
			// --listen and --log-format given on the command line win over
			// the file (a systemd override, a test).
			if explicit["listen"] {
				c.Listen = *listen
			}
			if explicit["log-format"] {
				c.LogFormat = *logFormat
			}
		} else {
			if *repo == "" {
				return nil, nil, fmt.Errorf("give --config FILE, or --repo PATH|URL with --trusted-keys/--allowed-signers")
			}
			c = &config.Config{
				Listen: *listen, StateDir: *stateDir, LogFormat: *logFormat, Profile: *profile, Concurrency: *concurrency, MaxSessions: *maxSessions,
				DriftInterval: config.Duration(*driftEvery), Audit: config.Audit{Interval: config.Duration(*auditEvery)},
				Sources: []config.Source{{Name: "default", URL: *repo, Branch: *branch, Path: *path,
					PollInterval: config.Duration(*poll), WebhookSecretFile: *webhookSecret}},
				Trust:   config.Trust{Mode: *trustMode, AllowedSigners: *signers, PGPKeys: keys},
				HBA:     config.HBA{Writer: *hbaWriter, SSHUser: *sshUser, SSHKey: *sshKey, KnownHosts: *knownHosts, SSHPort: *sshPort},
				Patroni: config.Patroni{Enabled: pf.enabled, CAFile: pf.caFile},
			}
			c.Modes.SetAll(*mode)
			c.Modes.PgBouncer = *pgbMode
			c.Defaults()
			flagPositions(c, explicit, len(keys))
		}
		if explicit["pprof"] {
			c.Pprof = *pprofOn
		}
		if explicit["shard"] {
			c.Shard = *shard
			c.SetPos("shard", config.Pos{File: "--shard"})
		}
		if err := memoryLimitFlag(c, explicit["memory-limit"], *memLimit); err != nil {
			return nil, nil, err
		}
		if err := sessionIdleFlag(c, explicit["session-idle"], *sessionIdle); err != nil {
			return nil, nil, err
		}
		ps := append(c.Problems(), preflight.Check(c, preflight.Options{UID: os.Geteuid()})...)
		ps.Sort()
		return c, ps, nil
	}
	cfg, problems, err := load()
	if err != nil {
		return errorf(e, "run", "%v", err)
	}
	if *checkOnly {
		return reportCheck(e, cfg, problems)
	}
	log := newLogger(e, cfg.LogFormat)
	logProblems(log, problems)
	if problems.Errors() > 0 {
		log.Error("the configuration has problems: not started", "problems", problems.Errors())
		return exitFail
	}
	d, err := daemon.New(cfg, log)
	if err != nil {
		return errorf(e, "run", "%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan *config.Config)
	go func() {
		for range hup {
			if *cfgFile == "" {
				log.Warn("SIGHUP: no configuration file to reload (started with flags)")
				continue
			}
			c, ps, err := load()
			if err == nil {
				logProblems(log, ps)
				err = ps.Err()
			}
			if err != nil {
				log.Error("SIGHUP: the new configuration is invalid; keeping the running one", "err", err)
				continue
			}
			select {
			case reload <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	log.Info("pgreconciler starting", "version", version, "sources", len(cfg.Sources), "drift_interval", cfg.DriftInterval.D().String())
	if err := d.Run(ctx, reload, *grace); err != nil {
		log.Error("daemon stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// memoryLimitFlag sets the memory limit from --memory-limit when it was
// given; the configuration's checks judge the value.
func memoryLimitFlag(c *config.Config, given bool, value string) error {
	if !given {
		return nil
	}
	v, err := config.ParseByteSize(value)
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	c.MemoryLimit = v
	return nil
}

// sessionIdleFlag applies --session-idle, when given, over the file's
// session_idle.
func sessionIdleFlag(c *config.Config, given bool, value string) error {
	if !given {
		return nil
	}
	v, err := config.ParseIdle(value)
	if err != nil {
		return fmt.Errorf("--session-idle: %w", err)
	}
	c.SessionIdle = v
	c.SetPos("session_idle", config.Pos{File: "--session-idle"})
	return nil
}

func newLogger(e *env, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}

// logProblems logs the problems of a configuration, one line each.
func logProblems(log *slog.Logger, ps config.Problems) {
	for _, p := range ps {
		if p.Warning {
			log.Warn("configuration warning", "problem", p.Error())
		} else {
			log.Error("configuration problem", "problem", p.Error())
		}
	}
}

// reportCheck prints the verdict of `run --check-config`: every problem on
// stderr, as FILE:LINE:COL: [warning: ]KEY: message, then a summary.
func reportCheck(e *env, cfg *config.Config, ps config.Problems) int {
	for _, p := range ps {
		fmt.Fprintln(e.stderr, p.Error())
	}
	name := cfg.File()
	if name == "" {
		name = "the configuration from flags"
	}
	warnings := len(ps) - ps.Errors()
	if n := ps.Errors(); n > 0 {
		fmt.Fprintf(e.stderr, "%s: %d problem(s), %d warning(s): the daemon would not start\n", name, n, warnings)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "%s: configuration OK (%d warning(s))\n", name, warnings)
	return exitOK
}

// flagPositions records which flag set each key of a configuration built
// from flags, so that problems name the flag.
func flagPositions(c *config.Config, given map[string]bool, nKeys int) {
	for flagName, key := range map[string]string{
		"listen": "listen", "state-dir": "state_dir", "log-format": "log_format", "profile": "profile",
		"concurrency": "concurrency", "max-sessions": "max_sessions", "drift-interval": "drift_interval", "audit-interval": "audit.interval", "repo": "sources[0].url",
		"branch": "sources[0].branch", "path": "sources[0].path", "poll-interval": "sources[0].poll_interval",
		"webhook-secret-file": "sources[0].webhook_secret_file", "trust-mode": "trust.mode",
		"allowed-signers": "trust.allowed_signers", "hba-writer": "hba.writer", "ssh-user": "hba.ssh_user",
		"ssh-key": "hba.ssh_key", "known-hosts": "hba.known_hosts", "ssh-port": "hba.ssh_port",
		"pgbouncer": "modes.pgbouncer",
	} {
		if given[flagName] {
			c.SetPos(key, config.Pos{File: "--" + flagName})
		}
	}
	for i := 0; i < nKeys; i++ {
		c.SetPos(fmt.Sprintf("trust.pgp_keys[%d]", i), config.Pos{File: fmt.Sprintf("--trusted-keys (#%d)", i+1)})
	}
}
