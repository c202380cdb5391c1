-- ALTER ROLE … [IN DATABASE …] SET and ALTER DATABASE … SET: oid 0 means
-- "all roles" (setrole) or "all databases" (setdatabase).
SELECT setrole, setdatabase, setconfig
FROM pg_catalog.pg_db_role_setting;
