-- ALTER ROLE / ALTER DATABASE … SET of the audited parameters ($1, and
-- pgaudit's): a session of that role or in that database does not get the
-- server's value. Other settings are not read (they may hold secrets).
SELECT coalesce(r.rolname, '') AS role, coalesce(d.datname, '') AS database,
       split_part(c, '=', 1) AS name, substr(c, strpos(c, '=') + 1) AS value
FROM pg_catalog.pg_db_role_setting s
LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
CROSS JOIN LATERAL unnest(s.setconfig) AS c
WHERE split_part(c, '=', 1) = ANY($1) OR c LIKE 'pgaudit.%'
ORDER BY 1, 2, 3;
