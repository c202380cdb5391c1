-- COMMENT ON ROLE and COMMENT ON DATABASE.
SELECT objoid, classoid = 'pg_catalog.pg_database'::regclass AS is_database, description
FROM pg_catalog.pg_shdescription
WHERE classoid IN ('pg_catalog.pg_authid'::regclass, 'pg_catalog.pg_database'::regclass);
