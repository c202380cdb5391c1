-- One batch of change-log retention: delete up to $3 of the oldest rows
-- that are older than $1 (NULL: no age limit) or beyond the newest $2 rows
-- ($2 NULL: no row limit), never the newest applied row from a commit (the
-- rewind check's floor, last_applied.sql). The oldest rows are found by
-- the primary key, from the oldest id on: a batch reads about $3 index
-- entries, however long the table.
WITH floor AS (
	SELECT id FROM pgreconciler.change_log
	WHERE status = 'applied' AND commit <> ''
	ORDER BY id DESC LIMIT 1
), cut AS (
	SELECT id FROM pgreconciler.change_log
	ORDER BY id DESC OFFSET $2 LIMIT 1
), victims AS (
	SELECT c.id FROM (
		SELECT id, at FROM pgreconciler.change_log ORDER BY id LIMIT $3
	) c
	WHERE (c.at < $1 OR ($2::bigint IS NOT NULL AND c.id <= (SELECT id FROM cut)))
	  AND c.id IS DISTINCT FROM (SELECT id FROM floor)
)
DELETE FROM pgreconciler.change_log WHERE id IN (SELECT id FROM victims)
