// Package schema embeds the CUE definition of a pgreconciler spec: the
// inventory shape (#Inventory, #Vars, #User, #Database, #HBARule), Pigsty's
// defaults (#Defaults) and the policy profiles (policy/). It is the only
// definition of what a spec is; package spec reads it from here.
//
// Only the .cue files hold meaning: embed.go exposes them as FS and nothing
// else. Field documentation for users is docs/spec-reference.md, which must
// say what these files say.
//
// What it must not import: anything of pgreconciler's (it is data;
// internal/spec, and through it the CLI and the daemon, import it).
package schema
