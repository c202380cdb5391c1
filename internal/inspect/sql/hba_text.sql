-- The text of the HBA file ($1 is SHOW hba_file), when it was last
-- modified (NULL without EXECUTE on pg_stat_file), and when the server last
-- loaded its configuration: a file newer than the load was written but
-- not reloaded.
SELECT pg_catalog.pg_read_file($1),
       CASE WHEN has_function_privilege('pg_catalog.pg_stat_file(text)', 'EXECUTE')
            THEN (pg_catalog.pg_stat_file($1)).modification END,
       pg_catalog.pg_conf_load_time();
