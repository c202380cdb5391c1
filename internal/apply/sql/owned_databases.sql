-- The databases a role ($1) owns, read right before it would be dropped: a
-- role that owns a database is never removed.
SELECT coalesce(array_agg(d.datname::text ORDER BY d.datname), '{}')
FROM pg_database d
JOIN pg_roles r ON r.oid = d.datdba
WHERE r.rolname = $1
