// Package source turns a Git repository of cluster specs into a verified
// commit and its spec tree: (tree, commit, signer). An unverified commit
// ends here, before any spec is parsed.
//
// What it does:
//
//   - Repository access with go-git: a local repository is opened in place
//     (its work tree is ignored); a file://, https:// or ssh:// remote is
//     fetched into a bare cache repository (branches and tags mirrored,
//     forced, pruned). ssh:// needs pinned host keys (known_hosts; the host
//     key algorithms offered are exactly the pinned ones); there is no
//     trust on first use. A failed fetch is an error, never an empty tree.
//   - Revisions: the followed branch or tag, or a branch, tag, full ref
//     name, or full or abbreviated hash; ambiguity is an error.
//   - Signatures (VerifySignature, a pure function): OpenPGP against armored
//     public keys (ProtonMail/go-crypto, the library behind go-git's
//     Commit.Verify), SSH signatures (SSHSIG, namespace "git", sha256 or
//     sha512) checked by hand with x/crypto/ssh against a git allowed_signers
//     file, with namespaces, valid-after and valid-before honoured the way
//     ssh-keygen honours them. Key validity for SSH is judged at the
//     committer time, as `git verify-commit` does; OpenPGP expiry and
//     revocation at the wall clock, as gpg does. Trust is loaded from
//     configured files, never from the repository being verified.
//   - History policy: strict (the default) verifies every commit of the
//     first-parent chain from the last applied commit (exclusive) to the
//     target (inclusive); head verifies the target only. The last applied
//     commit is the newest, by the time it was applied, of the state
//     directory's and of the floors the caller passes to Recheck (the
//     newest commit of each cluster's change log): a floor the repository
//     does not have refuses the target. On first contact (no last applied
//     commit anywhere) strict also verifies only the target. The
//     target itself is verified every time, even when it is the last applied
//     commit. Second parents of merges are not walked: a signed merge whose
//     second parent is unsigned is accepted. Each failing commit is reported
//     on its own, by full hash (never deduplicated by key ID). A target that
//     does not descend from the last applied commit (force push, rollback,
//     rewritten history) is refused unless AllowRewind is set. The walk is
//     bounded (MaxWalk, default 10,000 commits); commits verified OK are
//     cached for the life of the Source.
//   - Any commit again (VerifyCommit, Contains): its verdict against the
//     trusted keys now and its parents, and whether a revision's history
//     holds it, without fetching; the audit's chain of custody re-verifies
//     the commits the change logs name with them.
//   - Spec tree: read from the commit's objects, never from a work tree,
//     into an in-memory fs.FS (SpecFS). Symlinks, submodules, other
//     non-regular modes, names that are not plain path elements, and a
//     missing or empty spec root are refused; file size, entry count and
//     total size are capped (4 MiB, 10,000, 64 MiB by default) from object
//     headers, before blobs are read.
//   - State: the last applied commit per source, in a small JSON file in the
//     state directory, written atomically and only after a successful apply
//     (MarkApplied / SaveState); and what the daemon remembers of refused
//     commits and of the commit it is evaluating (Refused: LoadRefused /
//     SaveRefused), bounded. A corrupt file is an error, never "no state".
//     ResolveWith calls a hook between the checks and the tree read, where
//     the daemon skips commits judged before and records the one it reads.
//
// Errors: a *Refusal (bad or missing signature, history or tree breaking
// the rules) needs a human; anything else (fetch, I/O) is worth a retry.
//
// What it does not do: it does not parse or validate specs (package spec),
// verify signatures on tag objects (a followed tag is trusted through the
// commit it points at), support SSH certificates (cert-authority lines are
// refused when the trust is loaded), walk merge second parents, consult a
// web of trust or key servers, or lock a cache directory against another
// process. A cached OK verdict is not re-checked when an OpenPGP key expires
// later in the life of the process.
//
// What it must not import: internal/spec (it hands the tree on unparsed),
// internal/apply, internal/inspect, internal/dbconn, internal/diff,
// internal/drift, internal/reconcile: a commit is judged before anything
// reads its spec or reaches a database. It may import internal/model.
package source
