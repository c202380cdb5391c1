-- Round trip 1 of the audit: who the collector is, what server it met, and
-- which catalogs it may read, so that round trip 2 asks only for what it
-- is allowed to see (privileges decide what is read, never whether the
-- audit works). pg_settings hides data_directory and hba_file from roles
-- without pg_read_all_settings (NULL here) instead of raising an error.
WITH f AS (
    SELECT max(setting) FILTER (WHERE name = 'data_directory') AS data_directory,
           max(setting) FILTER (WHERE name = 'hba_file') AS hba_file
    FROM pg_catalog.pg_settings
    WHERE name IN ('data_directory', 'hba_file')
)
SELECT current_setting('server_version_num')::int AS version,
       pg_catalog.pg_is_in_recovery() AS in_recovery,
       now() AS now,
       current_user AS "user",
       coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false) AS superuser,
       coalesce((SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()), false) AS ssl,
       has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS authid_readable,
       has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT') AS hba_rules_readable,
       coalesce(f.hba_file, '') AS hba_file,
       pg_catalog.pg_conf_load_time() AS conf_loaded,
       -- pg_stat_file needs EXECUTE, and outside the data directory also
       -- the privileges of pg_read_server_files.
       coalesce(f.hba_file IS NOT NULL
                AND has_function_privilege('pg_catalog.pg_stat_file(text)', 'EXECUTE')
                AND (pg_has_role('pg_read_server_files', 'USAGE')
                     OR starts_with(f.hba_file, f.data_directory || '/')), false) AS hba_stat_allowed,
       -- The change log: NULL when there is none. Looked up by oid: a name
       -- in a schema the session may not use raises an error.
       (SELECT has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'pgreconciler' AND c.relname = 'change_log') AS change_log_readable
FROM f;
