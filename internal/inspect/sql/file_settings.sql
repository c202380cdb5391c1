-- Parameters as the configuration files hold them, in the order the server
-- reads them: for each name the last row is the one that counts.
SELECT name, coalesce(setting, '') AS setting, coalesce(sourcefile, '') AS sourcefile,
       applied, coalesce(error, '') AS error
FROM pg_catalog.pg_file_settings
WHERE name IS NOT NULL
ORDER BY seqno;
