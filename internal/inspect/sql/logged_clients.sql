-- Connections the server logged as authorized (log_connections) in its
-- csvlog files modified within the window ($1 seconds): clients that are
-- not connected now but came recently, a nightly batch job among them.
-- The newest 3 such files are read from their last $2 bytes (missing_ok:
-- a file rotated away meanwhile reads as nothing), filtered and grouped
-- here, so only the groups cross the wire. The port is cut from the
-- client address ("127.0.0.2:51234", "::1:51234"; "[local]" has none).
WITH f AS (
    SELECT l.name, l.size
    FROM pg_catalog.pg_ls_logdir() l
    WHERE l.name LIKE '%.csv' AND l.modification >= now() - make_interval(secs => $1::double precision)
    ORDER BY l.modification DESC
    LIMIT 3
), lines AS (
    SELECT line
    FROM f, regexp_split_to_table(coalesce(pg_catalog.pg_read_file(current_setting('log_directory') || '/' || f.name,
                                                                 greatest(f.size - $2::bigint, 0), $2::bigint, true), ''),
                                  E'\n') AS line
    WHERE line LIKE '%,"connection authorized: %'
), parsed AS (
    SELECT regexp_match(line, '^[^,]*,"((?:[^"]|"")*)","((?:[^"]|"")*)",[0-9]*,"([^"]*)"') AS m,
           substring(line from 'connection authorized: [^"]*application_name=([^ ",]*)') AS app,
           line ~ '"connection authorized: [^"]* SSL enabled' AS ssl
    FROM lines
)
SELECT replace(m[1], '""', '"') AS usename,
       replace(m[2], '""', '"') AS datname,
       CASE WHEN m[3] = '[local]' THEN '' ELSE regexp_replace(m[3], ':[0-9]+$', '') END AS client_addr,
       ssl,
       coalesce(app, '') AS application_name,
       count(*)::int AS connections,
       (count(*) OVER ())::int AS groups
FROM parsed
WHERE m IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
ORDER BY 6 DESC, 1, 2, 3, 5
LIMIT 2000;
