-- Every role the users in $1 are members of, directly or through other
-- roles, whatever the INHERIT flags and without counting superuser status:
-- what PostgreSQL 15 matches +group and samerole lines of pg_hba.conf against.
WITH RECURSIVE m(member, roleid) AS (
    SELECT a.member, a.roleid
    FROM pg_auth_members a
    JOIN pg_roles u ON u.oid = a.member
    WHERE u.rolname = ANY($1)
  UNION
    SELECT m.member, a.roleid
    FROM m
    JOIN pg_auth_members a ON a.member = m.roleid
)
SELECT u.rolname::text, g.rolname::text
FROM m
JOIN pg_roles u ON u.oid = m.member
JOIN pg_roles g ON g.oid = m.roleid
