-- What the apply learns about its session on the primary before it changes
-- anything: who it is (the reconciler's own login, which the guards protect),
-- whether the server is still a primary, whether it is a superuser, whether
-- pg_stat_statements tracks utility statements (the apply keeps its DDL out
-- of it), and whether log_transaction_sample_rate could log a password
-- transaction.
SELECT session_user,
       pg_is_in_recovery(),
       current_setting('is_superuser') = 'on',
       coalesce(current_setting('pg_stat_statements.track', true) <> 'none'
                AND current_setting('pg_stat_statements.track_utility', true) = 'on', false),
       current_setting('log_transaction_sample_rate')::float8 <> 0
