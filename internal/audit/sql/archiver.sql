-- WAL archiving: how many segments, the last success and the last failure.
SELECT archived_count, coalesce(last_archived_wal, '') AS last_archived_wal, last_archived_time,
       failed_count, coalesce(last_failed_wal, '') AS last_failed_wal, last_failed_time
FROM pg_catalog.pg_stat_archiver;
