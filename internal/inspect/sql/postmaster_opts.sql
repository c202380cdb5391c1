-- The postmaster's command line, as it recorded it in the data directory
-- at start: a value given there (Patroni passes --name=value) overrides
-- the configuration files.
SELECT pg_catalog.pg_read_file('postmaster.opts');
