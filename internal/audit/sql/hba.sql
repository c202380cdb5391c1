-- pg_hba.conf as the server parses it from disk now, in file order, lines
-- with errors included.
SELECT coalesce(line_number, 0) AS line_number, coalesce(type, '') AS type, database, user_name,
       coalesce(address, '') AS address, coalesce(netmask, '') AS netmask,
       coalesce(auth_method, '') AS auth_method, options, coalesce(error, '') AS error
FROM pg_catalog.pg_hba_file_rules
ORDER BY line_number;
