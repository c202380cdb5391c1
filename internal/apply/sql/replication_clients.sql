-- Every replication client connected now, as pg_hba.conf sees it: user,
-- address ('' for the local socket), SSL, and the database of a logical
-- walsender ('' for a physical one). The lockout guard keeps each of them
-- allowed by a new pg_hba.conf.
SELECT r.usename::text,
       coalesce(host(r.client_addr), ''),
       coalesce(s.ssl, false),
       coalesce(a.datname::text, '')
FROM pg_stat_replication r
LEFT JOIN pg_stat_ssl s ON s.pid = r.pid
LEFT JOIN pg_stat_activity a ON a.pid = r.pid
