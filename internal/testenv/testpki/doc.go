// Package testpki makes the throwaway certificates the test harnesses give
// their servers: a CA and one server certificate it signed, for localhost
// and the loopback addresses the servers listen on, in the file layout of
// Pigsty's /pg/cert (ca.crt, server.crt, server.key).
//
// What it does not do: client certificates, revocation, or anything a
// production PKI needs; the keys are P-256, valid for a year (and two days
// back, for servers with skewed clocks).
package testpki
