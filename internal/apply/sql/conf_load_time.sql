-- When the server last loaded its configuration files.
SELECT pg_conf_load_time()
