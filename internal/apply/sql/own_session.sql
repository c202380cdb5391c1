-- The apply's own session as pg_hba.conf sees it (user, database, address,
-- SSL), and whether the server offers SSL at all: the lockout guard keeps
-- the reconciler's connections, and the replicas', allowed.
SELECT session_user::text,
       current_database()::text,
       coalesce(host(inet_client_addr()), ''),
       coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
       current_setting('ssl')::bool
