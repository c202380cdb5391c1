-- Server parameters as this session runs them (setting in the base unit);
-- all of them, or the one named $1 (any case). The server's version goes
-- with each row: how a value reads depends on it (package pgconf).
SELECT name, coalesce(setting, '') AS setting, coalesce(unit, '') AS unit, context, vartype, source,
       coalesce(sourcefile, '') AS sourcefile, coalesce(boot_val, '') AS boot_val,
       coalesce(reset_val, '') AS reset_val, enumvals, coalesce(min_val, '') AS min_val,
       coalesce(max_val, '') AS max_val, pending_restart,
       current_setting('server_version_num')::int AS version
FROM pg_catalog.pg_settings
WHERE $1::text IS NULL OR lower(name) = lower($1::text);
