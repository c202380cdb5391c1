-- When pg_hba.conf was last written: after pg_conf_load_time(), the rules
-- pg_hba_file_rules shows are not yet in force.
SELECT (pg_catalog.pg_stat_file(current_setting('hba_file'))).modification;
