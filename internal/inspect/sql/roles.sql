-- Roles without passwords, for sessions that cannot read pg_authid. Same
-- columns as roles_authid.sql.
SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
       rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, NULL::text AS rolpassword
FROM pg_catalog.pg_roles;
