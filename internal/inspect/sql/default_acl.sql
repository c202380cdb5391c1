-- ALTER DEFAULT PRIVILEGES of the current database, one row per (owner,
-- schema, object type, grantee, privilege). A database-wide entry
-- (defaclnamespace 0) holds the whole resulting ACL, so the owner's own
-- privileges appear as rows too. Grantee 0 is PUBLIC.
SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS owner,
       coalesce(n.nspname, '') AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
            WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' WHEN 'L' THEN 'LARGE OBJECTS'
            ELSE d.defaclobjtype::text END AS object_type,
       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
       a.privilege_type, a.is_grantable
FROM pg_catalog.pg_default_acl d
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a;
