package model

// Provenance is where a desired state came from: the commit its spec was
// read from, who signed that commit, and who wrote it. Package source
// makes it from a verified commit (source.Snapshot.Provenance); it travels
// through the daemon and the CLI into reconcile and apply unchanged, and
// ends as the commit, signer and author columns of every change_log row
// and as the commit in application_name of every session.
type Provenance struct {
	Commit string // full hash; "" for a work tree, which is no commit
	Signer string // the verified signer as source.Signer prints it; "" when not verified
	Author string // "Name <email>" of the commit's author
}
