package patroni

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// localConfig is the part of patroni.yml (Pigsty's /pg/conf/<ins>.yml,
// linked as /etc/patroni/patroni.yml) that the checks read.
type localConfig struct {
	RestAPI struct {
		Listen         string `yaml:"listen"`
		ConnectAddress string `yaml:"connect_address"`
		CertFile       string `yaml:"certfile"`
		CAFile         string `yaml:"cafile"`
		// Pigsty's templates write restapi.cacert, a key Patroni does not
		// read (it wants cafile); it is taken as the CA when cafile is not
		// set, since it says what the operator meant.
		CACert         string   `yaml:"cacert"`
		VerifyClient   string   `yaml:"verify_client"`
		Allowlist      []string `yaml:"allowlist"`
		IncludeMembers bool     `yaml:"allowlist_include_members"`
		Authentication struct {
			Username string `yaml:"username"`
			Password string `yaml:"password"`
		} `yaml:"authentication"`
	} `yaml:"restapi"`
	Ctl struct {
		Insecure bool `yaml:"insecure"`
	} `yaml:"ctl"`
	Postgresql struct {
		// pg_hba: lines Patroni writes into pg_hba.conf, unless the
		// hba_file parameter points elsewhere (Patroni's documentation).
		PgHBA      []string       `yaml:"pg_hba"`
		Parameters map[string]any `yaml:"parameters"`
	} `yaml:"postgresql"`
}

// ParseSettings reads the settings the checks need from one member's
// patroni.yml. The REST password is only noted as set, never kept.
func ParseSettings(instance string, data []byte) (model.PatroniSettings, error) {
	var cfg localConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return model.PatroniSettings{}, fmt.Errorf("parse patroni.yml of %s: %w", instance, err)
	}
	r := cfg.RestAPI
	s := model.PatroniSettings{
		Instance:                instance,
		FromFile:                true,
		Listen:                  r.Listen,
		ConnectAddress:          r.ConnectAddress,
		AuthConfigured:          r.Authentication.Username != "" && r.Authentication.Password != "",
		Username:                r.Authentication.Username,
		SSL:                     r.CertFile != "",
		CertFile:                r.CertFile,
		CAFile:                  r.CAFile,
		VerifyClient:            strings.ToLower(r.VerifyClient),
		Allowlist:               r.Allowlist,
		AllowlistIncludeMembers: r.IncludeMembers,
		CtlInsecure:             cfg.Ctl.Insecure,
		PgHBALines:              len(cfg.Postgresql.PgHBA),
	}
	if f, ok := cfg.Postgresql.Parameters["hba_file"].(string); ok {
		s.HBAFile = f
	}
	if s.CAFile == "" {
		s.CAFile = r.CACert
	}
	return s, nil
}

// CheckSettings compares one member's observed Patroni settings with what
// the inventory renders; it is pure. What the file says and what the REST
// API answered are both checked: a file changed without a reload shows as
// a difference between the two.
func CheckSettings(want model.PatroniExpect, got model.PatroniSettings) []model.PatroniSettingFinding {
	var out []model.PatroniSettingFinding
	add := func(kind model.PatroniSettingKind, format string, args ...any) {
		if slices.ContainsFunc(out, func(f model.PatroniSettingFinding) bool { return f.Kind == kind }) {
			return
		}
		out = append(out, model.PatroniSettingFinding{Kind: kind, Instance: got.Instance, Detail: fmt.Sprintf(format, args...)})
	}
	onOff := map[bool]string{true: "on", false: "off"}
	if got.FromFile {
		if got.SSL != want.SSL {
			add(model.SettingSSL, "patroni.yml has REST API SSL %s, patroni_ssl_enabled is %t", onOff[got.SSL], want.SSL)
		}
		if !got.AuthConfigured {
			add(model.SettingAuthOff, "patroni.yml has no restapi.authentication: anyone the allowlist lets in may switch over, restart or reconfigure")
		} else if want.Username != "" && got.Username != want.Username {
			add(model.SettingAuthUser, "patroni.yml has REST user %q, patroni_username is %q", got.Username, want.Username)
		}
		if got.SSL && got.CtlInsecure {
			add(model.SettingCtlInsecure, "ctl.insecure is set although the REST API uses SSL: patronictl does not verify its certificate")
		}
		allowlistFindings(want, got, add)
		if got.PgHBALines > 0 && got.HBAFile == "" {
			add(model.SettingPgHBA, "patroni.yml has %d postgresql.pg_hba lines and no hba_file: Patroni writes pg_hba.conf from them whenever it starts PostgreSQL (a restart, a failover) and when they change, replacing the rules the spec applies; remove the section (Pigsty renders pg_hba.conf itself) or set postgresql.parameters.hba_file", got.PgHBALines)
		}
	}
	if p := got.Probe; p != nil {
		if p.SSL != want.SSL {
			add(model.SettingSSL, "the REST API answers on %s, patroni_ssl_enabled is %t", map[bool]string{true: "https", false: "http"}[p.SSL], want.SSL)
		}
		switch {
		case !p.Allowed:
			add(model.SettingNotAllowed, "the REST API's allowlist refuses the reconciler's address: reloads and restarts through Patroni are impossible from here")
		case !p.AuthEnforced:
			add(model.SettingAuthOff, "the REST API accepted an unsafe request without credentials")
		case !p.CredentialsAccepted:
			add(model.SettingCredentials, "the REST API refused patroni_username/patroni_password")
		}
	}
	return out
}

// allowlistFindings compares restapi.allowlist with Pigsty's pg_allow_list.
func allowlistFindings(want model.PatroniExpect, got model.PatroniSettings, add func(model.PatroniSettingKind, string, ...any)) {
	if len(got.Allowlist) == 0 && !got.AllowlistIncludeMembers {
		add(model.SettingAllowlistOpen, "restapi.allowlist is empty: the unsafe endpoints accept every address")
		return
	}
	wants, gots, members := entries(want.Allowlist), entries(got.Allowlist), entries(want.Members)
	var extra, missing []string
	for _, g := range gots {
		if !slices.ContainsFunc(wants, g.within) {
			extra = append(extra, g.text)
		}
	}
	for _, w := range wants {
		covered := slices.ContainsFunc(gots, w.within)
		if !covered && got.AllowlistIncludeMembers {
			covered = slices.ContainsFunc(members, w.within)
		}
		if !covered {
			missing = append(missing, w.text)
		}
	}
	if len(extra) > 0 {
		add(model.SettingAllowlistExtra, "restapi.allowlist also lets in %s, beyond admin_ip, the cluster members and infra", strings.Join(extra, ", "))
	}
	if len(missing) > 0 {
		add(model.SettingAllowlistMissing, "restapi.allowlist does not let in %s", strings.Join(missing, ", "))
	}
}

// entry is one allowlist entry: a network (an address is a single-address
// network) or, when it is neither, a host name compared as text.
type entry struct {
	text   string
	prefix netip.Prefix
	isNet  bool
}

func entries(list []string) []entry {
	out := make([]entry, 0, len(list))
	for _, t := range list {
		e := entry{text: strings.TrimSpace(t)}
		if p, err := netip.ParsePrefix(e.text); err == nil {
			e.prefix, e.isNet = p.Masked(), true
		} else if a, err := netip.ParseAddr(e.text); err == nil {
			e.prefix, e.isNet = netip.PrefixFrom(a, a.BitLen()), true
		}
		out = append(out, e)
	}
	return out
}

// within reports whether e lies inside outer: a network inside a network,
// a host name equal to a host name.
func (e entry) within(outer entry) bool {
	if !e.isNet || !outer.isNet {
		return !e.isNet && !outer.isNet && e.text == outer.text
	}
	return outer.prefix.Bits() <= e.prefix.Bits() && outer.prefix.Contains(e.prefix.Addr())
}
