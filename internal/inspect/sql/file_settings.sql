-- Parameters as the configuration files hold them, in the order the server
-- reads them: for each name the last row is the one that counts. All of
-- them, or those named $1 (any case; the files keep the case they were
-- written in, pg_settings has its own: DateStyle).
SELECT name, coalesce(setting, '') AS setting, coalesce(sourcefile, '') AS sourcefile,
       applied, coalesce(error, '') AS error
FROM pg_catalog.pg_file_settings
WHERE name IS NOT NULL AND ($1::text IS NULL OR lower(name) = lower($1::text))
ORDER BY seqno;
