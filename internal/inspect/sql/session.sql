-- Round trip 1: who and where this session is, and which catalogs it may
-- read, so that round trip 2 asks only for what it is allowed to see.
-- pg_settings hides data_directory and hba_file from roles without
-- pg_read_all_settings (NULL here) instead of raising an error.
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
       current_database() AS database,
       coalesce(host(inet_client_addr()), '') AS client_addr,
       coalesce((SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()), false) AS ssl,
       current_setting('application_name') AS application_name,
       coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false) AS superuser,
       coalesce(f.data_directory, '') AS data_directory,
       coalesce(f.hba_file, '') AS hba_file,
       has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS authid_readable,
       has_table_privilege('pg_catalog.pg_file_settings', 'SELECT') AS file_settings_readable,
       has_table_privilege('pg_catalog.pg_hba_file_rules', 'SELECT') AS hba_rules_readable,
       -- postmaster.opts lies in the data directory: EXECUTE is enough.
       has_function_privilege('pg_catalog.pg_read_file(text)', 'EXECUTE') AS opts_readable,
       -- This session processed a reload after it started: its backend and
       -- superuser-backend parameters may predate the configuration.
       coalesce(pg_catalog.pg_conf_load_time() > (SELECT backend_start FROM pg_catalog.pg_stat_activity
                                                   WHERE pid = pg_catalog.pg_backend_pid()), false) AS reloaded,
       -- pg_read_file needs EXECUTE, and outside the data directory also
       -- the privileges of pg_read_server_files.
       coalesce(f.hba_file IS NOT NULL
                AND has_function_privilege('pg_catalog.pg_read_file(text)', 'EXECUTE')
                AND (pg_has_role('pg_read_server_files', 'USAGE')
                     OR starts_with(f.hba_file, f.data_directory || '/')), false) AS hba_file_readable,
       -- The csvlog files can be listed (pg_ls_logdir: pg_monitor) and
       -- read (pg_read_file; outside the data directory with
       -- pg_read_server_files), and they hold log_connections lines.
       coalesce(current_setting('logging_collector') = 'on'
                AND current_setting('log_destination') LIKE '%csvlog%'
                AND current_setting('log_connections') NOT IN ('off', '')
                AND (pg_has_role('pg_monitor', 'USAGE') OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user))
                AND has_function_privilege('pg_catalog.pg_read_file(text, bigint, bigint, boolean)', 'EXECUTE')
                AND (pg_has_role('pg_read_server_files', 'USAGE')
                     OR NOT starts_with(current_setting('log_directory'), '/')
                     OR starts_with(current_setting('log_directory'), f.data_directory || '/')), false) AS logs_readable
FROM f;
