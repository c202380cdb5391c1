-- Whether this session has processed a configuration reload since $1 (a
-- pg_conf_load_time() read before the reload was asked for).
SELECT pg_conf_load_time() > $1
