-- Client sessions open now, grouped by who connects from where: the live
-- evidence of a plan's impact preview. The inspecting session is left out;
-- walsenders are in replication.sql. client_port is -1 over a Unix socket;
-- address and port are NULL when this role may not see another role's
-- session (without pg_read_all_stats). groups counts every group, also
-- those beyond the cap.
SELECT coalesce(a.usename, '') AS usename,
       coalesce(a.datname, '') AS datname,
       coalesce(host(a.client_addr), '') AS client_addr,
       a.client_port IS NULL AS hidden,
       coalesce(s.ssl, false) AS ssl,
       coalesce(a.application_name, '') AS application_name,
       count(*)::int AS sessions,
       (count(*) OVER ())::int AS groups
FROM pg_catalog.pg_stat_activity a
LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid = a.pid
WHERE a.backend_type = 'client backend' AND a.pid <> pg_catalog.pg_backend_pid()
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 7 DESC, 1, 2, 3, 6
LIMIT 2000;
