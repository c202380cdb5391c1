package pgbouncer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/scram"
)

// Source says where the password of a userlist.txt entry comes from.
type Source uint8

// Sources, in the order Render prefers them for a plaintext spec password.
const (
	FromSpec   Source = iota // the spec's verifier or md5 hash, or the md5 hash of its plaintext (pg_pwd_enc md5)
	FromStored               // pg_authid on the primary: matches the spec's password, or copied as Pigsty's AUTO does
	FromLive                 // the live userlist.txt: matches the spec's password (pg_authid was not read)
	FromFresh                // hashed here from the spec's password with a fresh salt
	Empty                    // "" : the dbsu (peer), or a role pg_authid holds no password for
	Unknown                  // no password in the spec and pg_authid not read: only the primary knows it
)

var sourceNames = [...]string{"spec", "pg_authid", "live file", "hashed now", "empty", "unknown"}

func (s Source) String() string { return sourceNames[s] }

// Entry is one line of userlist.txt. Its String never shows the password.
type Entry struct {
	Name     string
	Password model.Secret // a SCRAM verifier, an md5 hash, or zero for ""
	Source   Source
}

func (e Entry) String() string { return redactedLine(e) }

// UserlistFile is the userlist.txt an instance's PgBouncer must hold.
type UserlistFile struct {
	Entries []Entry // in file order
}

// Entry returns the entry of name, or nil.
func (u *UserlistFile) Entry(name string) *Entry {
	for i := range u.Entries {
		if u.Entries[i].Name == name {
			return &u.Entries[i]
		}
	}
	return nil
}

// Unknown lists the users whose verifier only the primary knows (no
// password in the spec, pg_authid not read): Text refuses to write them.
func (u *UserlistFile) Unknown() []string {
	var out []string
	for _, e := range u.Entries {
		if e.Source == Unknown {
			out = append(out, e.Name)
		}
	}
	return out
}

// Text is the file's content, verifiers included, as a Secret. It fails
// when a verifier is Unknown: writing "" instead would lock that user out.
func (u *UserlistFile) Text() (model.Secret, error) {
	if unknown := u.Unknown(); len(unknown) > 0 {
		return model.Secret{}, fmt.Errorf("render userlist.txt: no verifier for %s: the spec gives no password, and only pg_authid on the primary holds one",
			strings.Join(unknown, ", "))
	}
	var b strings.Builder
	for _, e := range u.Entries {
		b.WriteString(userlistLine(e.Name, e.Password.Reveal()))
	}
	return model.NewSecret(b.String()), nil
}

// Redacted is the file with every password replaced: "<redacted>" for a
// verifier or hash, "<pg_authid>" for an Unknown one, "" kept as it is.
func (u *UserlistFile) Redacted() string {
	var b strings.Builder
	for _, e := range u.Entries {
		b.WriteString(redactedLine(e))
	}
	return b.String()
}

func redactedLine(e Entry) string {
	switch {
	case e.Source == Unknown:
		return userlistLine(e.Name, "<pg_authid>")
	case e.Password.IsZero():
		return userlistLine(e.Name, "")
	}
	return userlistLine(e.Name, model.Redacted)
}

// userlistLine is one line as pgb-user writes it: "name" "password". Role
// names cannot hold a double quote; one would be doubled, as PgBouncer
// reads it.
func userlistLine(name, password string) string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	return q(name) + " " + q(password) + "\n"
}

// renderUserlist lists the users Pigsty's pgbouncer tasks put in
// userlist.txt and picks each one's password (see the package doc).
func renderUserlist(c *model.Cluster, in *model.Instance, inp Inputs) (UserlistFile, error) {
	g := c.Globals
	names := []string{g.DBSU, g.MonitorUser, g.AdminUser}
	if !in.Pooler.AuthQuery {
		for _, r := range c.Roles {
			if !r.System && r.Pgbouncer && r.State != model.StateAbsent {
				names = append(names, r.Name)
			}
		}
	}
	live := map[string]model.Secret{}
	for _, e := range inp.Live {
		live[e.Name] = e.Password
	}
	var u UserlistFile
	seen := map[string]bool{}
	for i, name := range names {
		if seen[name] {
			continue // pgb-user replaces the user's line
		}
		seen[name] = true
		e, keep := Entry{Name: name, Source: Empty}, true
		if i > 0 { // the dbsu is always "" (pgb-user <dbsu> NULL)
			var err error
			if e, keep, err = pickPassword(c.Role(name), name, g.PasswordEncryption, inp, live); err != nil {
				return UserlistFile{}, err
			}
		}
		if keep {
			u.Entries = append(u.Entries, e)
		}
	}
	// sort -r | uniq, byte order: the lines differ in their names.
	slices.SortFunc(u.Entries, func(a, b Entry) int {
		return strings.Compare(userlistLine(b.Name, b.Password.Reveal()), userlistLine(a.Name, a.Password.Reveal()))
	})
	return u, nil
}

// pickPassword decides the password of one userlist entry; keep is false
// for a user without a password in the spec whom pg_authid does not hold
// (pgb-user AUTO fails and adds nothing). r may be nil (a system user the
// spec does not declare).
func pickPassword(r *model.Role, name, pwdEnc string, inp Inputs, live map[string]model.Secret) (e Entry, keep bool, err error) {
	e = Entry{Name: name}
	read := inp.Stored != nil
	stored, storedKnown := inp.Stored[name]
	var want model.Secret
	if r != nil {
		want = r.Password
	}
	switch want.Kind() {
	case model.SecretSCRAM, model.SecretMD5:
		e.Password, e.Source = want, FromSpec
		return e, true, nil
	case model.SecretNone: // Pigsty's AUTO: whatever pg_authid holds
		switch {
		case read && !storedKnown:
			return e, false, nil
		case storedKnown && hashed(stored):
			e.Password, e.Source = stored, FromStored
		case storedKnown: // NULL (or a plaintext value, never copied)
			e.Source = Empty
		case hashed(live[name]):
			e.Password, e.Source = live[name], FromLive
		default:
			e.Source = Unknown
		}
		return e, true, nil
	}
	pw := want.Reveal()
	if pwdEnc == "md5" {
		e.Password, e.Source = model.NewSecret(scram.MD5(pw, name)), FromSpec
		return e, true, nil
	}
	switch {
	case storedKnown && stored.Kind() == model.SecretSCRAM && matches(pw, name, stored):
		e.Password, e.Source = stored, FromStored
	case !read && live[name].Kind() == model.SecretSCRAM && matches(pw, name, live[name]):
		e.Password, e.Source = live[name], FromLive
	default:
		if inp.Rand == nil {
			return Entry{}, false, errors.New("render userlist.txt: the SCRAM verifier of " + name + " must be computed, and no random source was given")
		}
		v, err := scram.New(pw, inp.Rand)
		if err != nil { // never quotes the password
			return Entry{}, false, fmt.Errorf("render userlist.txt: verifier of %s: %w", name, err)
		}
		e.Password, e.Source = model.NewSecret(v), FromFresh
	}
	return e, true, nil
}

// hashed reports whether s is a verifier or md5 hash: never copy a
// plaintext password into the file.
func hashed(s model.Secret) bool {
	k := s.Kind()
	return k == model.SecretSCRAM || k == model.SecretMD5
}

// matches reports whether the stored verifier or md5 hash is that of the
// plaintext password pw; a malformed one does not match.
func matches(pw, name string, stored model.Secret) bool {
	var ok bool
	var err error
	switch stored.Kind() {
	case model.SecretSCRAM:
		ok, err = scram.Matches(pw, stored.Reveal())
	case model.SecretMD5:
		ok, err = scram.MatchesMD5(pw, name, stored.Reveal())
	}
	return err == nil && ok
}

// ParseUserlist reads a live userlist.txt as PgBouncer does: one
// "name" "password" pair per line ("" inside quotes is a quote; anything
// after the pair is ignored). A line that is not such a pair is reported
// by number in errs, never quoted (it may hold a password): PgBouncer
// misreads the lines after it. A later entry for the same name wins, as in
// PgBouncer. Entries come back in file order, Source FromLive.
func ParseUserlist(content model.Secret) (entries []Entry, errs []error) {
	lines := strings.Split(strings.TrimSuffix(content.Reveal(), "\n"), "\n")
	index := map[string]int{}
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, rest, ok := quoted(strings.TrimLeft(line, " \t"))
		var pw string
		if ok {
			pw, _, ok = quoted(strings.TrimLeft(rest, " \t"))
		}
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("userlist.txt line %d is not a \"name\" \"password\" pair: PgBouncer misreads the lines after it", i+1))
			continue
		}
		e := Entry{Name: name, Password: model.NewSecret(pw), Source: FromLive}
		if j, dup := index[name]; dup {
			entries[j] = e
			continue
		}
		index[name] = len(entries)
		entries = append(entries, e)
	}
	return entries, errs
}

// quoted reads a double-quoted string at the start of s.
func quoted(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}
