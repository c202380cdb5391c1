-- Role memberships, PostgreSQL 15 (no inherit_option, set_option: NULL).
-- memberships16.sql has the same columns.
SELECT member, roleid, grantor, admin_option,
       NULL::boolean AS inherit_option, NULL::boolean AS set_option
FROM pg_catalog.pg_auth_members;
