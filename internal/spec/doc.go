// Package spec turns the files of a spec repository (CUE, and Ansible
// inventories in Pigsty's YAML) into a model.Desired, or into the list of
// every problem that refuses it, each at the file:line:col it comes from.
//
// It owns what a spec means: which files are specs, the limits a commit
// must stay within (Limits), the embedded schema (package schema) as the
// one definition of a field, Ansible's variable precedence and Pigsty's
// defaults, the checks the schema cannot express, the policy profiles
// (schema/policy), and the wording and redaction of problems.
//
// A Load runs these stages in order; file names start with the stage:
//
//  1. read (read_*.go): list the .cue files and the .yml/.yaml files with
//     a top-level all: key, within the count and size limits; parse each
//     in parallel, through a cache by content hash, into a data tree of
//     positioned nodes (tree.go) under one memory budget for the whole
//     load (read_budget.go). Plain-data CUE takes a fast path
//     (read_cuefast.go, checked against cue/parser by a fuzz test); CUE
//     that is not plain data is evaluated under a time and memory budget
//     (read_cue_eval.go); YAML in the usual subset (block and one-line
//     flow collections, plain and quoted scalars) takes a fast path
//     (read_yamlfast.go, checked against yaml.v3 by a fuzz test), the
//     rest goes through yaml.v3; both follow PyYAML's YAML 1.1 booleans,
//     and yaml.v3 gives libyaml's error lines (read_yaml.go,
//     read_yaml_error.go). The files'
//     trees are unified into one, with CUE's semantics for data
//     (read_merge.go); a conflict names both positions.
//  2. schema (schema.go, schema_walk.go): the merged tree is walked
//     against the compiled schema: kinds, enumerations, required and
//     unknown fields (with a suggestion), and the text every string must
//     be (no NUL, valid UTF-8; check_text.go holds the rules).
//  3. resolve (resolve_*.go): every host gets its variables the way Ansible
//     gives them (host over group over all.vars over Pigsty's #Defaults,
//     group depth and ansible_group_priority; resolve_inventory.go); hosts
//     are grouped into clusters by pg_cluster and each cluster is decoded
//     into a model.Cluster together with the nodes its parts came from
//     (resolve_cluster.go, resolve_decode.go), so that later stages can
//     point at the spec's lines.
//  4. check (check_*.go): the rules the schema cannot state, per cluster:
//     identity and roles, memberships, databases, privileges and
//     parameters (check_objects.go), HBA rules as Render would take them
//     (check_hba.go), what Pigsty renders for PgBouncer, pgb_hba.conf
//     judged by the pooler's lockout guard included (check_pooler.go),
//     names and settings on one line (check_text.go), and
//     variables that must agree across a cluster's hosts (check_vars.go).
//     They run even when the schema refused something, so that one run
//     reports every problem, but never repeat a refusal of the schema.
//  5. policy (policy*.go): when the schema passed and a profile is named
//     (baseline, strict; "none" skips it), the profile's rules judge the
//     resolved values: HBA (policy_hba.go), roles and passwords
//     (policy_roles.go), parameters (policy_params.go).
//
// Problems (problem.go) are sorted, one line each (problem_text.go), and
// never show a secret (problem_redact.go): they are printed by validate,
// logged by the daemon and returned as errors. Result.Desired is set only
// when no problem is an error; Result.Final says whether the verdict can
// change on a retry (the evaluator's time budget).
//
// What it must not import: anything that connects, writes or decides
// what to change: internal/inspect, internal/apply, internal/dbconn,
// internal/source, internal/diff, internal/drift, internal/reconcile
// (TestLayering in cmd/reconciler holds part of this). A spec is judged
// before any connection is opened, from an fs.FS it is given (package
// source reads it from a verified commit); it reads nothing else, neither
// the network nor the server nor the environment. It imports only
// internal/model, and internal/hba, internal/pgbouncer, internal/privs and
// internal/scram for the rules those packages own.
package spec
