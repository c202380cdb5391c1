package schema

import "embed"

// FS holds the schema's .cue files and the policy profiles.
//
//go:embed *.cue policy/*.cue
var FS embed.FS
