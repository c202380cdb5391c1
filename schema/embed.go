// Package schema embeds the CUE definition of a pgreconciler spec: the
// inventory shape (#Inventory, #Vars, #User, #Database, #HBARule), Pigsty's
// defaults (#Defaults) and the policy profiles (policy/). It is the only
// definition of what a spec is; package spec reads it from here.
package schema

import "embed"

// FS holds the schema's .cue files and the policy profiles.
//
//go:embed *.cue policy/*.cue
var FS embed.FS
