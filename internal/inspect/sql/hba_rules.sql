-- pg_hba.conf as the server parses it from disk now (not necessarily what
-- it has loaded), in file order, lines with errors included. file_name is
-- new in 16 (include directives): a row from another file than hba_file.
SELECT coalesce(line_number, 0) AS line_number, coalesce(type, '') AS type, database, user_name,
       coalesce(address, '') AS address, coalesce(netmask, '') AS netmask,
       coalesce(auth_method, '') AS auth_method, options, coalesce(error, '') AS error,
       coalesce(to_jsonb(r) ->> 'file_name', '') AS file_name
FROM pg_catalog.pg_hba_file_rules r;
