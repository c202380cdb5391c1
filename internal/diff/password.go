package diff

import (
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/plan"
	"github.com/pgreconciler/pgreconciler/internal/protect"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// password plans a password change when the stored verifier does not
// match the spec's password. No plaintext is ever compared with plaintext:
// a verifier or hash in the spec must equal the stored value; a plaintext
// password is checked by recomputing the stored SCRAM verifier (or md5
// hash) from it. The passwords of the dbsu, of the reconciler's own role
// and of the replication user are reported, never changed.
func (b *builder) password(r *model.Role, live *model.LiveRole) {
	b.md5Deprecated(r, live)
	if r.Password.IsZero() {
		return
	}
	ch := plan.Change{Kind: plan.KindPassword, Object: r.Name, After: model.Redacted,
		Intent: plan.Intent{Password: &plan.PasswordChange{Role: r.Name, Password: r.Password, Encryption: b.c.Globals.PasswordEncryption}}}
	if live == nil {
		ch.Action, ch.Before, ch.Reason = plan.ActionCreate, "none", "new role"
		b.add(phPassword, ch)
		return
	}
	state, why := b.passwordState(r, live)
	if state == "in sync" {
		return
	}
	ch.Action, ch.Before, ch.Reason = plan.ActionChange, state, why
	switch who := b.policy.Password(r.Name); {
	case who == protect.Replication:
		ch.Action = plan.ActionReport
		ch.Reason = "not planned: " + protectedBecause(who) + ", and Patroni on the replicas would " +
			"keep the old password and could not reconnect; change it by hand, together with " +
			"postgresql.authentication.replication in patroni.yml on every member (" + why + ")"
	case who != protect.None:
		ch.Action = plan.ActionReport
		ch.Reason = "not planned: " + protectedBecause(who) + "; set its password by hand (" + why + ")"
	case state == "unknown":
		ch.Action = plan.ActionReport
	}
	b.add(phPassword, ch)
}

// passwordState describes the stored password relative to the spec:
// "in sync", "unknown", "none", "differs" or the stored format when the
// format itself is the problem; with a reason for humans.
func (b *builder) passwordState(r *model.Role, live *model.LiveRole) (string, string) {
	if !b.pl.AuthidReadable {
		return "unknown", "pg_authid is not readable by " + b.self + ": the stored password cannot be compared"
	}
	stored := live.Password
	if stored.IsZero() {
		return "none", "no password is set"
	}
	want := r.Password.Reveal()
	scramWanted := b.c.Globals.PasswordEncryption != "md5"
	switch r.Password.Kind() {
	case model.SecretSCRAM, model.SecretMD5:
		if want == stored.Reveal() {
			return "in sync", ""
		}
		if stored.Kind() != r.Password.Kind() {
			return "stored as " + stored.Kind().String(), "the spec holds a " + r.Password.Kind().String() + " verifier"
		}
		return "differs", "the stored verifier differs from the spec's"
	}
	switch stored.Kind() {
	case model.SecretSCRAM:
		if ok, err := scram.Matches(want, stored.Reveal()); err == nil && ok {
			return "in sync", ""
		}
		return "differs", "the stored SCRAM verifier does not match the spec's password"
	case model.SecretMD5:
		if scramWanted {
			return "stored as md5", "stored as an md5 hash while pg_pwd_enc is scram-sha-256"
		}
		if ok, err := scram.MatchesMD5(want, r.Name, stored.Reveal()); err == nil && ok {
			return "in sync", ""
		}
		return "differs", "the stored md5 hash does not match the spec's password"
	}
	return "stored as plaintext", "the server holds an unhashed password"
}

// md5Deprecated reports md5 passwords on PostgreSQL 18+, which deprecates
// them (a WARNING when one is set or used to log in, md5_password_warnings):
// a spec that asks for one (an md5 hash, or a plaintext password with
// pg_pwd_enc md5) is a finding to fix (report); an md5 hash stored for a
// role whose password the spec leaves alone is noted.
func (b *builder) md5Deprecated(r *model.Role, live *model.LiveRole) {
	if b.pl.Version < 180000 {
		return
	}
	const why = " deprecates md5 passwords (a WARNING whenever one is set or used to log in); store a SCRAM-SHA-256 verifier"
	kind := r.Password.Kind()
	switch {
	case kind == model.SecretMD5 || kind == model.SecretPlaintext && b.c.Globals.PasswordEncryption == "md5":
		asks := "the spec holds an md5 hash"
		if kind == model.SecretPlaintext {
			asks = "pg_pwd_enc is md5"
		}
		b.add(phNote, plan.Change{Kind: plan.KindPassword, Action: plan.ActionReport, Object: r.Name,
			After: "md5", Reason: asks + ": " + b.serverVersion() + why})
	case kind == model.SecretNone && live != nil && live.Password.Kind() == model.SecretMD5:
		b.add(phNote, plan.Change{Kind: plan.KindPassword, Action: plan.ActionNote, Object: r.Name,
			Before: "md5", Reason: "the stored password is an md5 hash: " + b.serverVersion() + why})
	}
}
