// Package plan defines the Plan: the ordered list of typed changes that
// package diff computes and that package apply executes, package drift
// counts and the CLI prints. Apply and drift both read it without
// importing each other.
//
// A Plan is data. Its text never holds a secret: a password, or a server
// parameter value that may hold a credential, travels in a Statement's
// Password field (a model.Secret) and is only put into SQL by the
// executor. Reasons are for humans; nothing branches on them.
package plan
