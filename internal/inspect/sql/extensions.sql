-- Extensions installed in the current database.
SELECT e.extname, n.nspname AS schema, e.extversion
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace;
