-- Clients streaming WAL from this instance (replicas, backup tools).
SELECT coalesce(r.usename, '') AS usename, coalesce(r.application_name, '') AS application_name,
       coalesce(host(r.client_addr), '') AS client_addr, coalesce(s.ssl, false) AS ssl,
       coalesce(r.state, '') AS state
FROM pg_catalog.pg_stat_replication r
LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid = r.pid;
