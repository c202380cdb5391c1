-- pg_hba.conf as it is on disk now, parsed by the server: each line, with
-- the error PostgreSQL would refuse it for. Read after writing a candidate
-- and before the reload.
SELECT line_number, coalesce(type, ''), coalesce(error, '')
FROM pg_hba_file_rules
