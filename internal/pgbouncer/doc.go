// Package pgbouncer knows the four files Pigsty renders for the PgBouncer
// beside every instance, and what a live pooler must keep: it renders
// them as Pigsty's templates and user tasks produce them, reads their live
// content, compares desired and live (a line diff per file, and the
// pooler's admin-console view against the files), and judges a new
// pgb_hba.conf and userlist.txt with the pooler's lockout guard.
//
// The files, under /etc/pgbouncer (pigsty-model.md §2.5):
//
//   - userlist.txt (auth_file): "name" "verifier" for the dbsu (always
//     empty: it logs in by peer), the monitor, the admin, and every
//     pg_users entry with pgbouncer: true that is not absent (none when
//     pgbouncer_auth_query is on), sorted as Pigsty's pgb-user leaves it
//     (sort -r, C locale). Pigsty copies each verifier from pg_authid on
//     the primary (pgb-user AUTO), because PgBouncer can log in to
//     PostgreSQL with a SCRAM secret only when it is the very verifier the
//     server holds. Render does the same when it is given the primary's
//     verifiers (Inputs.Stored): a verifier from the spec passes through,
//     an md5 hash is computed (pg_pwd_enc md5), and a plaintext spec
//     password is never written: the stored verifier that matches it is,
//     else the live file's one that matches it, else one hashed here with
//     a fresh salt (internal/scram). Its content is a model.Secret.
//   - useropts.txt ([users]): pool_mode and max_user_connections
//     (pool_connlimit) of every pg_default_roles and pg_users entry having
//     either, absent ones included, as pgbouncer.useropts renders them.
//   - database.txt ([databases]): every pg_databases entry with pgbouncer
//     not false that is not absent, host=pg_localhost and its pool_*
//     options, as pgbouncer.database renders them. One deliberate
//     departure: when pg_port is not 5432, port= follows host= (PgBouncer
//     would otherwise connect to 5432; with the default port the text is
//     Pigsty's byte for byte). pgbouncer_redirect_to has no effect, as in
//     Pigsty's template, which sets it and never uses it.
//   - pgb_hba.conf (auth_hba_file): hba.RenderPgBouncer.
//
// The package is pure: no I/O, no clock, no logging; randomness only from
// the reader it is given. It does not read the files or talk to the admin
// console (package inspect does), write them or RELOAD (apply's job), or
// render pgbouncer.ini: Pigsty's main configuration is read, never
// managed (CompareState reports what pgreconciler relies on in it).
//
// Secrets: a verifier never appears in a Finding, an error or any String
// form of this package's types; Userlist.Text returns the file as a
// model.Secret, the only way out.
package pgbouncer
