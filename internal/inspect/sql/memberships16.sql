-- Role memberships, PostgreSQL 16 and later. Same columns as
-- memberships.sql.
SELECT member, roleid, grantor, admin_option, inherit_option, set_option
FROM pg_catalog.pg_auth_members;
