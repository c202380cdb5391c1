-- Whether the change log exists in this (the primary's postgres) database,
-- as this version makes it: with every column it writes (xact came with
-- the intent rows of changes in other databases) and the index of pending
-- rows; on a table an older version made, change_log.sql adds what lacks.
SELECT to_regclass('pgreconciler.change_log') IS NOT NULL
   AND EXISTS (SELECT FROM pg_attribute
               WHERE attrelid = to_regclass('pgreconciler.change_log') AND attname = 'xact' AND NOT attisdropped)
   AND to_regclass('pgreconciler.change_log_pending') IS NOT NULL
