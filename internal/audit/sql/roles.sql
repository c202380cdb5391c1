-- Roles with their attributes and direct memberships; the predefined pg_*
-- roles are left out (they appear as memberships). No password column:
-- pg_roles shows none.
SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
       r.rolbypassrls, r.rolvaliduntil,
       -- DISTINCT: from PostgreSQL 16 a membership may be granted by several grantors.
       ARRAY(SELECT DISTINCT g.rolname FROM pg_catalog.pg_auth_members m
             JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY g.rolname) AS member_of
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY r.rolname;
