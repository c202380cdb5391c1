package daemon

import (
	"fmt"
	"os"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/config"
	"github.com/pgreconciler/pgreconciler/internal/dbconn"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
)

// The translation of a configuration (package config: what the file says)
// into the types of the packages that do the work: connection settings
// for dbconn, an HBA writer of package apply, sources and trust of package
// source. It reads every file the configuration names, and touches nothing
// that runs.

// preparedSource is a source of a configuration that has not started yet.
type preparedSource struct {
	cfg    config.Source
	src    *source.Source
	secret []byte
}

// prepared is a configuration whose files have all been read and whose
// sources are configured, ready to replace the running one.
type prepared struct {
	g       *generation
	sources []preparedSource
}

// prepare reads everything a configuration needs (trust, keys, secrets)
// and configures its sources, without touching the running daemon.
func (d *Daemon) prepare(cfg *config.Config) (*prepared, error) {
	g := &generation{cfg: cfg, queue: newWorkQueue(), kicks: map[string]chan struct{}{},
		slots: newSessionCap(cfg.MaxSessions)}
	g.dialer = dialerOf(cfg.Connection)
	g.dialer.Tracer = sessionTracer{d.sessions}
	g.kept = newKeptSessions(cfg.SessionIdle.D(), g.slots, d.sessions, d.now)
	hba, err := hbaWriterOf(cfg.HBA)
	if err != nil {
		return nil, err
	}
	g.hba = hba
	trust, err := source.LoadTrust(source.TrustFiles{PGPKeys: cfg.Trust.PGPKeys, AllowedSigners: cfg.Trust.AllowedSigners})
	if err != nil {
		return nil, err
	}
	pol, err := source.ParsePolicy(cfg.Trust.Mode)
	if err != nil {
		return nil, err
	}
	p := &prepared{g: g}
	for _, sc := range cfg.Sources {
		auth, err := authOf(sc.Auth)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		src, err := source.New(source.Config{
			Name: sc.Name, URL: sc.URL, Branch: sc.Branch, Tag: sc.Tag, Path: sc.Path,
			CacheDir: cfg.CacheDir, StateDir: cfg.StateDir, Auth: auth, Trust: trust, Policy: pol, AllowRewind: sc.AllowRewind,
			Logger: d.log.With("source", sc.Name),
		})
		if err != nil {
			return nil, err
		}
		ps := preparedSource{cfg: sc, src: src}
		if sc.WebhookSecretFile != "" {
			b, err := os.ReadFile(sc.WebhookSecretFile)
			if err != nil {
				return nil, fmt.Errorf("source %s: webhook secret: %w", sc.Name, err)
			}
			ps.secret = trimSecret(b)
		}
		p.sources = append(p.sources, ps)
	}
	return p, nil
}

// dialerOf is the session opener of the connection settings.
func dialerOf(conn config.Connection) *dbconn.Dialer {
	per := map[string]dbconn.Settings{}
	for name, s := range conn.Clusters {
		per[name] = settings(s)
	}
	return dbconn.New(settings(conn.Settings), per)
}

// hbaWriterOf is the writer of pg_hba.conf the configuration names.
func hbaWriterOf(h config.HBA) (apply.HBAWriter, error) {
	if h.Writer != "ssh" {
		return apply.NewLocalWriter(), nil
	}
	w, err := apply.NewSSHWriter(apply.SSHConfig{User: h.SSHUser, KeyFile: h.SSHKey, KnownHostsFile: h.KnownHosts, Port: h.SSHPort})
	if err != nil {
		return nil, fmt.Errorf("hba writer: %w", err)
	}
	return w, nil
}

func settings(s config.Settings) dbconn.Settings {
	return dbconn.Settings{User: s.User, Passfile: s.Passfile, SSLMode: s.SSLMode, SSLRootCert: s.SSLRootCert,
		SSLCert: s.SSLCert, SSLKey: s.SSLKey, ConnectTimeout: s.ConnectTimeout.D()}
}

func authOf(a config.Auth) (source.Auth, error) {
	out := source.Auth{Username: a.Username, SSHKeyFile: a.SSHKey, KnownHostsFile: a.KnownHosts}
	if a.PasswordFile != "" {
		b, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return out, fmt.Errorf("read password_file: %w", err)
		}
		out.Password = model.NewSecret(string(trimSecret(b)))
	}
	return out, nil
}

func trimSecret(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
