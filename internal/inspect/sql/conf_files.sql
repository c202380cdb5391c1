-- Whether the server runs the configuration files as they are now: how
-- many files pg_stat_file may not read ($1 is the data directory, "" when
-- hidden; outside it pg_read_server_files is needed) or that are gone, the
-- newest modification time, the time of the last load, and now (a
-- modification time after now, from a clock that stepped back, cannot be
-- settled by a reload).
-- pg_stat_file has whole seconds: a file written after a reload, within
-- the same second, passes for loaded.
WITH f AS (
    SELECT DISTINCT sourcefile FROM pg_catalog.pg_file_settings WHERE sourcefile IS NOT NULL
), m AS (
    SELECT CASE WHEN has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE')
                     AND (pg_has_role('pg_read_server_files', 'USAGE')
                          OR ($1::text <> '' AND starts_with(f.sourcefile, $1::text || '/')))
                THEN (pg_catalog.pg_stat_file(f.sourcefile, true)).modification END AS modification
    FROM f
)
SELECT count(*) FILTER (WHERE m.modification IS NULL) AS unreadable,
       max(m.modification) AS newest,
       pg_catalog.pg_conf_load_time() AS loaded,
       pg_catalog.now() AS now
FROM m;
