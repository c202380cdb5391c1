// Package patroni reads and drives Patroni, the HA daemon of every Pigsty
// cluster, through its REST API, and decides a cluster's topology.
//
// The Client speaks to each member's REST API (Pigsty's patroni_port,
// https when patroni_ssl_enabled, verified against a CA file): GET
// /cluster, /patroni and /config are read without credentials, as Patroni
// serves them; POST /reload, POST and DELETE /restart carry Pigsty's
// patroni_username/patroni_password as basic auth. Probe learns, without
// changing anything, whether the allowlist lets the reconciler in, whether
// authentication is enforced and whether the credentials are accepted.
// Errors name the method and URL and Patroni's reason, never a credential;
// an *HTTPError matches ErrUnauthorized, ErrForbidden … with errors.Is.
//
// Topology is a pure function: from the inventory's instances (pg_role),
// Patroni's view and pg_is_in_recovery() per instance it establishes the
// leader that cluster-wide changes go to and the members that run, and
// reports as findings every disagreement between Patroni, the catalog and
// the inventory. A leader is never guessed: when the sources do not agree
// on one, there is none. ParseSettings and CheckSettings compare the
// settings of a member's patroni.yml that Pigsty renders and the security
// controls rest on (REST allowlist, authentication, SSL) with the inventory.
//
// What it does not do: it never talks to the DCS (etcd) directly, never
// writes patroni.yml or the DCS configuration (no PATCH /config, no
// switchover or failover), and never restarts anything on its own: Restart
// does what its caller asks. It reads no files and opens no database
// sessions; the caller supplies patroni.yml's bytes and the catalog's
// answers.
package patroni
