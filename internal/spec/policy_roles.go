package spec

import (
	"fmt"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Policy rules about roles and their passwords.

// eachRole calls fn for every declared, present role with its node.
func (b *built) eachRole(fn func(cs *clusterSrc, r *model.Role, n *node)) {
	for _, cs := range b.clusters {
		for i, r := range cs.c.Roles {
			if r.State != model.StateAbsent {
				fn(cs, r, cs.roles[i])
			}
		}
	}
}

func checkPasswordEncryption(b *built, report func(Pos, string)) {
	for _, cs := range b.clusters {
		if cs.c.Globals.PasswordEncryption != "scram-sha-256" {
			p, _ := cs.varPos("pg_pwd_enc")
			report(p, fmt.Sprintf("cluster %s: pg_pwd_enc is %s; use scram-sha-256", cs.c.Name, cs.c.Globals.PasswordEncryption))
		}
		for _, in := range cs.c.Instances {
			for _, p := range in.Parameters {
				if p.Name == "password_encryption" && p.Value != "scram-sha-256" {
					report(cs.at(cs.paramPos(in, p.Name)), fmt.Sprintf("instance %s: password_encryption is %s; use scram-sha-256", in.Name(), p.Value))
				}
			}
		}
	}
}

func checkNoMD5Hash(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		if r.Password.Kind() == model.SecretMD5 && n.get("password") != nil { // the kind first: most entries have no password field
			report(cs.at(n.posOf("password")), fmt.Sprintf("role %s: the password is an md5 hash; store a SCRAM-SHA-256 verifier (reconciler passwd)", r.Name))
		}
	})
	eachGlobalPassword(b, model.SecretMD5, func(p Pos, v string) {
		report(p, fmt.Sprintf("%s is an md5 hash; store a SCRAM-SHA-256 verifier (reconciler passwd)", v))
	})
}

func checkNoPlaintext(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		if r.Password.Kind() == model.SecretPlaintext && n.get("password") != nil {
			report(cs.at(n.posOf("password")), fmt.Sprintf("role %s: the password is plaintext in Git; commit a SCRAM-SHA-256 verifier instead (reconciler passwd %s)", r.Name, r.Name))
		}
	})
	eachGlobalPassword(b, model.SecretPlaintext, func(p Pos, v string) {
		report(p, fmt.Sprintf("%s is plaintext in Git; commit a SCRAM-SHA-256 verifier instead", v))
	})
}

// eachGlobalPassword calls f for each pg_*_password variable of a cluster
// whose value is of kind k, at the variable. (A role that takes its
// password from one is judged here, once, not again at the role.)
func eachGlobalPassword(b *built, k model.SecretKind, f func(Pos, string)) {
	for _, cs := range b.clusters {
		for _, v := range []string{"pg_dbsu_password", "pg_replication_password", "pg_admin_password", "pg_monitor_password"} {
			if p, n := cs.varPos(v); n != nil && model.KindOfPassword(n.scalar()) == k {
				f(p, v)
			}
		}
	}
}

func checkLoginExpiry(b *built, report func(Pos, string)) {
	b.eachRole(func(cs *clusterSrc, r *model.Role, n *node) {
		// Pigsty's CREATE USER makes a role LOGIN unless login: false.
		if (r.Login == nil || *r.Login) && r.ExpireIn == nil && r.ExpireAt == "" && !cs.c.Globals.Protected(r.Name) {
			report(cs.at(n.posOf("name")), fmt.Sprintf("login user %s has neither expire_in nor expire_at", r.Name))
		}
	})
}
