// Package plan defines the Plan: the ordered list of typed changes that
// package diff computes and that package apply executes, package drift
// counts and the CLI prints. Apply and drift both read it without
// importing each other.
//
// A Plan is data. Each Change says what it means as typed intent
// (intent.go): the role and the attributes it sets, the membership and
// its options, the password, the comment, the settings, the database and
// its options, the schema, the extension, the grants on a database or
// schema, the default privileges, the parameter (ParameterChange), the
// pg_hba.conf (HBAFile). Its Statements are rendered from that intent by
// Change.Render (render.go), the one place that spells an intent in SQL:
// identifiers through pgx.Identifier.Sanitize, strings through
// pgconf.QuoteLiteral, parameter values through pgconf.QuoteValue, in the
// syntax of the server's version. The executor's guards read the intent,
// never the SQL text; the JSON form of a plan carries it under "intent".
//
// A Plan's text never holds a secret: a password, or a server parameter
// value that may hold a credential, travels in a Statement's Password
// field (a model.Secret) and is only put into SQL by the executor; the
// intent's secrets (PasswordChange.Password, ParameterChange.Value) are
// never marshalled. Kinds, actions and statuses are small closed sets with
// String; Reasons are for humans, and nothing branches on them.
//
// A Change also carries its Impact (impact.go): what it would do to the
// clients connected when the plan was made (rejected by the new
// pg_hba.conf, no longer allowed to log in, terminated …), capped, with
// totals. The text and markdown plans show it first, the JSON plan as its
// "impact" list; CutsOff is what `plan --fail-on-impact` and the daemon's
// hold stop on.
//
// Plan does not decide what to change (package diff), does not execute
// (package apply) and imports no I/O package: only model, pgconf and pgx's
// identifier quoting.
package plan
