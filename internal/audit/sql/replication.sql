-- The servers replicating from this one. Without pg_read_all_stats the
-- address and state of other roles' connections are NULL ('' here).
SELECT coalesce(application_name, '') AS application_name, coalesce(host(client_addr), '') AS client_addr,
       coalesce(state, '') AS state, coalesce(sync_state, '') AS sync_state
FROM pg_catalog.pg_stat_replication
ORDER BY 1, 2;
