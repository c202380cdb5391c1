package model

// The small vocabularies that several packages share, each with the label
// values it stands for in metrics, configuration and status output.

// DriftClass groups the kinds of change for the drift metrics
// (pgreconciler_drift_items{kind}) and the daemon's per-class mode
// (modes.<class> in the configuration).
type DriftClass string

const (
	DriftUser      DriftClass = "user"      // roles, memberships, passwords, comments, role settings
	DriftDatabase  DriftClass = "database"  // databases, schemas, extensions
	DriftPrivilege DriftClass = "privilege" // database and schema ACLs, default privileges
	DriftParameter DriftClass = "parameter" // server parameters
	DriftHBA       DriftClass = "hba"       // pg_hba.conf
	DriftPgBouncer DriftClass = "pgbouncer" // PgBouncer's userlist.txt, useropts.txt, database.txt, pgb_hba.conf
)

// DriftClasses lists every drift class, in the order of the configuration.
func DriftClasses() []DriftClass {
	return []DriftClass{DriftUser, DriftDatabase, DriftPrivilege, DriftParameter, DriftHBA, DriftPgBouncer}
}

// RefusalKind is why a commit was refused: the reason label of
// pgreconciler_verification_failures_total, the kind of a refused commit
// in the state directory and the status.
type RefusalKind string

const (
	RefusalUnsigned     RefusalKind = "unsigned"      // the commit carries no signature
	RefusalUntrusted    RefusalKind = "untrusted"     // signed by a key that is not trusted
	RefusalBadSignature RefusalKind = "bad_signature" // the signature does not verify
	RefusalExpired      RefusalKind = "expired"       // the key was expired, revoked or outside its validity
	RefusalRewind       RefusalKind = "rewind"        // the target does not descend from the last applied commit
	RefusalHistory      RefusalKind = "history"       // a commit between the last applied one and the target fails (strict policy)
	RefusalTree         RefusalKind = "tree"          // the spec tree breaks the tree rules (symlink, size …)
	RefusalInvalid      RefusalKind = "invalid"       // signed, but the spec is invalid (schema, checks, policy)
	RefusalOther        RefusalKind = "other"         // anything else
)

// RefusalKinds lists every refusal kind.
func RefusalKinds() []RefusalKind {
	return []RefusalKind{RefusalUnsigned, RefusalUntrusted, RefusalBadSignature, RefusalExpired,
		RefusalRewind, RefusalHistory, RefusalTree, RefusalInvalid, RefusalOther}
}

// ShortHash abbreviates a commit hash to the 12 characters the project
// shows everywhere (plans, messages, application_name).
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
