-- Whether the change log exists in this (the primary's postgres) database,
-- with every column this version writes (xact came with the intent rows of
-- changes in other databases: a table an older version made lacks it, and
-- change_log.sql adds it).
SELECT to_regclass('pgreconciler.change_log') IS NOT NULL
   AND EXISTS (SELECT FROM pg_attribute
               WHERE attrelid = to_regclass('pgreconciler.change_log') AND attname = 'xact' AND NOT attisdropped)
