-- Whether the change log exists in this (the primary's postgres) database.
SELECT to_regclass('pgreconciler.change_log') IS NOT NULL
