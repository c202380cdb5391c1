-- The change log, created in the primary's postgres database on the first
-- apply; sent as one simple query, it runs as one implicit transaction.
CREATE SCHEMA IF NOT EXISTS pgreconciler;
CREATE TABLE IF NOT EXISTS pgreconciler.change_log (
	id        bigserial PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	cluster   text,
	instance  text,
	kind      text,
	action    text,
	object    text,
	statement text,
	commit    text,
	signer    text,
	author    text,
	status    text,
	error     text
);
-- The transaction of a change in another database than postgres, whose
-- row is written as pending before that transaction commits (intent.go);
-- added to a table an older version made.
ALTER TABLE pgreconciler.change_log ADD COLUMN IF NOT EXISTS xact bigint;
-- The pending rows (intent.go), which every run looks up under the apply
-- lock and settles by transaction: a handful, in a table of millions of
-- rows, so they are found without reading it; added to a table an older
-- version made.
CREATE INDEX IF NOT EXISTS change_log_pending ON pgreconciler.change_log (cluster, id) WHERE status = 'pending';
REVOKE ALL ON SCHEMA pgreconciler FROM PUBLIC;
REVOKE ALL ON TABLE pgreconciler.change_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE pgreconciler.change_log_id_seq FROM PUBLIC
