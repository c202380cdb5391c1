-- The text of the HBA file; $1 is SHOW hba_file.
SELECT pg_catalog.pg_read_file($1);
