-- Schemas of the current database, system schemas excluded, with their
-- ACL (NULL = the default: the owner holds USAGE and CREATE). PostgreSQL
-- 15+ creates public owned by pg_database_owner with USAGE for PUBLIC.
SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema';
