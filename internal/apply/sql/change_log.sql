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
REVOKE ALL ON SCHEMA pgreconciler FROM PUBLIC;
REVOKE ALL ON TABLE pgreconciler.change_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE pgreconciler.change_log_id_seq FROM PUBLIC
