-- Whether one of the candidate paths in $1 is a file on the server's host,
-- as the server itself sees it (no SSH needed).
SELECT coalesce(bool_or(f.size IS NOT NULL AND NOT f.isdir), false)
FROM unnest($1::text[]) AS p(path),
LATERAL pg_stat_file(p.path, true) AS f
