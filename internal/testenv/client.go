package testenv

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

// ClientOptions describe a client session a test holds open, as an
// application would: who, where from, with or without TLS.
type ClientOptions struct {
	User, Password, Database string
	From                     string // local loopback address to connect from, e.g. "127.0.0.2"; "" lets the kernel pick
	SSL                      bool   // sslmode=require, else sslmode=disable
	Application              string // application_name
}

// HoldClient opens a TCP session to s as o says and keeps it open until
// the test ends: a live client for the tests of a plan's impact preview.
// Linux routes all of 127.0.0.0/8 to the loopback interface, so From may
// be any address in it.
func (s *Server) HoldClient(t testing.TB, o ClientOptions) *pgx.Conn {
	t.Helper()
	mode := "disable"
	if o.SSL {
		mode = "require"
	}
	cfg, err := pgx.ParseConfig(connString([][2]string{
		{"host", s.Addr}, {"port", strconv.Itoa(s.Port)}, {"user", o.User}, {"password", o.Password},
		{"dbname", o.Database}, {"sslmode", mode}, {"connect_timeout", "10"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Application != "" {
		cfg.RuntimeParams["application_name"] = o.Application
	}
	if o.From != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.From)}}
		cfg.DialFunc = d.DialContext
	}
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("client %s from %s: %v", o.User, o.From, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
