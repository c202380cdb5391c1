-- The parameters the audit judges ($1), and those of the security
-- extensions, which exist only when loaded (or written as placeholders).
-- Only non-secret parameters are named: never primary_conninfo or
-- ssl_passphrase_command. archive_command is reduced to its program in Go.
SELECT name, setting, coalesce(unit, '') AS unit, vartype, coalesce(enumvals, '{}') AS enumvals,
       source, pending_restart
FROM pg_catalog.pg_settings
WHERE name = ANY($1)
   OR name LIKE 'pgaudit.%'
   OR name LIKE 'credcheck.%'
   OR name LIKE 'passwordcheck.%'
   OR name LIKE 'auth\_delay.%'
ORDER BY name;
