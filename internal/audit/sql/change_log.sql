-- The change log of the audited period ($1 onwards), oldest first. The
-- statement column is read only for observed rows (what differed); the
-- statements of applied changes are not evidence of who made them.
SELECT id, at, coalesce(cluster, '') AS cluster, coalesce(instance, '') AS instance,
       coalesce(kind, '') AS kind, coalesce(action, '') AS action, coalesce(object, '') AS object,
       coalesce(commit, '') AS commit, coalesce(signer, '') AS signer, coalesce(author, '') AS author,
       coalesce(status, '') AS status,
       CASE WHEN status = 'observed' THEN coalesce(statement, '') ELSE '' END AS what
FROM pgreconciler.change_log
WHERE at >= $1
ORDER BY id;
