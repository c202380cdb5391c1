-- How many objects each role owns, by database (pg_shdepend; dbid 0 is
-- the shared objects: databases, tablespaces): what DROP ROLE would have
-- to reassign or drop.
SELECT d.refobjid AS role, coalesce(db.datname, '') AS database, count(*)::int AS objects
FROM pg_catalog.pg_shdepend d
LEFT JOIN pg_catalog.pg_database db ON db.oid = d.dbid
WHERE d.deptype = 'o' AND d.refclassid = 'pg_catalog.pg_authid'::regclass
GROUP BY 1, 2;
