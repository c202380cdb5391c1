-- Roles with their passwords (superuser only). Same columns as roles.sql.
SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
       rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolpassword
FROM pg_catalog.pg_authid;
