package audit

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/inspect"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// PoolerFrom returns a Collector.Pooler hook that reads the PgBouncer the
// spec runs beside an instance (pgbouncer_enabled) through its admin
// console, with package inspect: connect opens a session to the console
// (dbconn.Dialer.ConnectConsole), readFile, when not nil, reads a file of
// the instance's host (pgb_hba.conf; the HBA writer's reader). An
// instance without a pooler gets nil: its checks are not applicable.
func PoolerFrom(connect func(ctx context.Context, in *model.Instance) (*pgx.Conn, error),
	readFile func(ctx context.Context, in *model.Instance, path string) ([]byte, error)) func(context.Context, *model.Instance) *Pooler {
	return func(ctx context.Context, in *model.Instance) *Pooler {
		if !in.Pooler.Enabled {
			return nil
		}
		p := &Pooler{Addr: net.JoinHostPort(in.IP, strconv.Itoa(in.Pooler.Port))}
		conn, err := connect(ctx, in)
		if err != nil {
			p.Err = err.Error()
			return p
		}
		defer conn.Close(context.WithoutCancel(ctx))
		opts := inspect.PoolerOptions{Instance: in.Name(), Addr: in.IP, Port: in.Pooler.Port}
		if readFile != nil {
			opts.ReadFile = func(ctx context.Context, path string) ([]byte, error) { return readFile(ctx, in, path) }
		}
		st, err := inspect.InspectPooler(ctx, conn, opts)
		if err != nil {
			p.Err = err.Error()
			return p
		}
		p.Version, p.ClientTLSMode, p.AuthType = st.Version, st.Config["client_tls_sslmode"], st.Config["auth_type"]
		p.HBAFile = st.Config["auth_hba_file"]
		switch {
		case p.HBAFile == "":
		case st.HBA.Err != "":
			p.HBAUnread = st.HBA.Err
		default:
			lines, errs := hba.ParsePgBouncer(st.HBA.Text)
			if len(errs) > 0 {
				p.HBAUnread = "it has lines PgBouncer refuses: " + errs[0].Error()
				break
			}
			p.HBA, p.lines = []string{}, lines
			for _, l := range lines {
				p.HBA = append(p.HBA, strings.Join(strings.Fields(l.String()), " "))
			}
		}
		return p
	}
}

// pooler returns the pooler's evidence, or the verdict when there is none
// to judge.
func (s *Subject) pooler() (*Pooler, *Verdict) {
	p := s.Evidence.Pooler
	var v Verdict
	switch {
	case !s.Instance.Pooler.Enabled:
		v = notApplicable("the spec runs no PgBouncer beside this instance (pgbouncer_enabled: false)")
	case p == nil:
		v = unknown("PgBouncer was not read (the audit was run without a pooler collector)")
	case p.Err != "":
		v = unknown("PgBouncer at %s: %s", p.Addr, p.Err)
	default:
		return p, nil
	}
	return nil, &v
}

func judgePoolerTLS(s *Subject) Verdict {
	p, uv := s.pooler()
	if uv != nil {
		return *uv
	}
	var v verdict
	switch p.ClientTLSMode {
	case "require", "verify-ca", "verify-full":
		v.fact("client_tls_sslmode", "%s", p.ClientTLSMode)
	default:
		v.fail("client_tls_sslmode", orEmpty(p.ClientTLSMode), "PgBouncer at "+p.Addr+" accepts clients without TLS (client_tls_sslmode "+orEmpty(p.ClientTLSMode)+")")
	}
	v.fact("auth_type", "%s", p.AuthType)
	return v.done("PgBouncer requires TLS from its clients")
}

// judgePoolerAuth: PgBouncer authenticates every client with a password
// that is not sent in clear nor hashed with md5 (scram-sha-256), a
// certificate, or pgb_hba.conf rules that do (no trust, no md5, no
// password over TCP).
func judgePoolerAuth(s *Subject) Verdict {
	p, uv := s.pooler()
	if uv != nil {
		return *uv
	}
	var v verdict
	switch p.AuthType {
	case "scram-sha-256", "cert":
		v.fact("auth_type", "%s", p.AuthType)
		return v.done("PgBouncer authenticates every client (auth_type " + p.AuthType + ")")
	case "hba":
		v.fact("auth_type", "hba")
	default:
		v.fail("auth_type", orEmpty(p.AuthType), "PgBouncer at "+p.Addr+" authenticates with auth_type "+orEmpty(p.AuthType)+": "+weakPoolerAuth(p.AuthType))
		return v.done("")
	}
	if p.HBA == nil {
		why := p.HBAUnread
		if why == "" {
			why = "auth_hba_file is not set"
		}
		return Verdict{Status: StatusUnknown, Why: "auth_type hba: the rules decide, and " + p.HBAFile + " was not read: " + why, Evidence: v.facts}
	}
	v.fact("auth_hba_file", "%s", p.HBAFile)
	for i, l := range p.lines {
		if l.Type == hba.Local {
			continue // the dbsu's peer login on the socket
		}
		switch l.Method {
		case "trust", "md5", "password", "plain":
			v.fail(describeLine(l), p.HBA[i], describeLine(l)+" of pgb_hba.conf lets TCP clients in with "+l.Method+": "+weakPoolerAuth(l.Method))
		}
	}
	return v.done("every TCP rule of pgb_hba.conf authenticates with scram-sha-256, a certificate, or rejects")
}

func weakPoolerAuth(method string) string {
	switch method {
	case "trust", "any":
		return "no authentication"
	case "md5":
		return "md5 (MLPS and SOC 2 want scram-sha-256)"
	case "plain", "password":
		return "the password is sent in clear"
	}
	return "not a method the reference accepts"
}
