-- The newest applied change the change log records that came from a commit:
-- its commit and when it was applied. The daemon and `plan`/`apply` with a
-- state directory take it as a floor of the rewind check, so that the last
-- applied commit survives a lost state directory. A missing change log is
-- SQLSTATE 42P01 (undefined_table): nothing applied yet.
SELECT commit, at
FROM pgreconciler.change_log
WHERE status = 'applied' AND commit <> ''
ORDER BY id DESC
LIMIT 1
