package pgbouncer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/hba"
	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Finding is one way a pooler differs from what it must hold: a file
// whose content differs (Diff holds the line diff), or the admin
// console's view differing from the files (State). No Finding holds a
// password: userlist.txt lines are redacted in Diff.
type Finding struct {
	File   File   // the file concerned (for State findings, the one whose content is not in force; INI for pgbouncer.ini's settings)
	State  bool   // from SHOW CONFIG, SHOW DATABASES or SHOW USERS, not from a file's text
	Object string // "userlist.txt", "database app", "user dbuser_app", "setting listen_port"
	Want   string // what it must be, in short
	Have   string // what it is
	Reason string
	Diff   []string // "+ line" desired, not live; "- line" live, not desired; "! …" a line the pooler cannot read
}

func (f Finding) String() string {
	s := f.Object + ": " + f.Reason
	if f.Want != "" || f.Have != "" {
		s += " (want " + f.Want + ", have " + f.Have + ")"
	}
	return s
}

// CompareFiles compares the rendered files with the live ones, one Finding
// per file that differs: userlist.txt entry by entry (order is not
// drift: PgBouncer looks users up by name), useropts.txt and database.txt
// as their key = value lines in order (comments and spacing are not
// drift), pgb_hba.conf semantically and in order (first match wins), as
// PgBouncer reads it. A file that could not be read is a Finding too.
func CompareFiles(want *Files, live *model.PoolerState) []Finding {
	var out []Finding
	if f, ok := compareUserlist(want.Userlist, live.Userlist); ok {
		out = append(out, f)
	}
	for _, x := range []struct {
		file File
		want string
		live model.PoolerFile
	}{{Useropts, want.Useropts, live.Useropts}, {Database, want.Database, live.Database}} {
		if f, ok := compareOptions(x.file, x.want, x.live); ok {
			out = append(out, f)
		}
	}
	if f, ok := compareHBA(want.HBA, live.HBA); ok {
		out = append(out, f)
	}
	return out
}

func unreadable(f File, path, err string) Finding {
	return Finding{File: f, Object: f.Base(), Want: "readable", Have: "unreadable", Reason: "cannot read " + path + ": " + err}
}

func compareUserlist(want UserlistFile, live model.PoolerSecretFile) (Finding, bool) {
	if live.Err != "" {
		return unreadable(Userlist, live.Path, live.Err), true
	}
	entries, errs := ParseUserlist(live.Content)
	items := func(es []Entry) []item {
		out := make([]item, len(es))
		for i, e := range es {
			out[i] = item{id: e.Name, key: e.Name + "\x00" + e.Password.Reveal(), show: strings.TrimSuffix(redactedLine(e), "\n")}
		}
		slices.SortFunc(out, func(a, b item) int { return strings.Compare(a.id, b.id) })
		return out
	}
	var wantEntries []Entry
	for _, e := range want.Entries {
		if e.Source == Unknown { // only the primary knows it: compare the name only
			if l := find(entries, e.Name); l != nil {
				e.Password = l.Password
			}
		}
		wantEntries = append(wantEntries, e)
	}
	var broken []string
	for _, err := range errs {
		broken = append(broken, err.Error())
	}
	return diffItems(Userlist, items(wantEntries), items(entries), broken, fmt.Sprintf("%d users", len(want.Entries)), "password")
}

// item is an entry of a file compared line by line: id names what it
// configures (a user, a database), key is what is compared, show what a
// diff prints (without secrets).
type item struct{ id, key, show string }

// diffItems is the Finding for a file whose items differ (nil when they do
// not): an edit script over the keys; a Remove and an Add of the same id
// count as one changed value.
func diffItems(f File, want, live []item, broken []string, wantDesc, what string) (Finding, bool) {
	keys := func(is []item) []string {
		out := make([]string, len(is))
		for i, x := range is {
			out[i] = x.key
		}
		return out
	}
	var diff []string
	steps := hba.EditScript(keys(want), keys(live))
	adds := map[string]bool{}
	for _, st := range steps {
		if st.Op == hba.Add {
			adds[want[st.Index].id] = true
		}
	}
	var extra, changed int
	for _, st := range steps {
		if st.Op == hba.Add {
			diff = append(diff, "+ "+want[st.Index].show)
			continue
		}
		x := live[st.Index]
		diff = append(diff, "- "+x.show)
		if adds[x.id] {
			changed++
			delete(adds, x.id)
		} else {
			extra++
		}
	}
	for _, b := range broken {
		diff = append(diff, "! "+b)
	}
	if len(diff) == 0 {
		return Finding{}, false
	}
	return Finding{File: f, Object: f.Base(), Want: wantDesc, Have: describe(len(adds), extra, changed, 0, len(broken), what),
		Reason: "live entries differ from the rendered file", Diff: diff}, true
}

func find(entries []Entry, name string) *Entry {
	for i := range entries {
		if entries[i].Name == name {
			return &entries[i]
		}
	}
	return nil
}

// describe says what a diff holds, in short.
func describe(missing, extra, changed, moved, broken int, what string) string {
	var parts []string
	for _, p := range []struct {
		n    int
		text string
	}{{missing, "missing"}, {extra, "unexpected"}, {changed, what + " differs"}, {moved, "out of order"}, {broken, "unreadable"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.text))
		}
	}
	return strings.Join(parts, ", ")
}

// optionLine is a "key = value" line of useropts.txt or database.txt,
// normalised: blanks around "=" and inside the value collapsed.
type optionLine struct {
	key, text string
}

// parseOptions reads the key = value lines of an included ini section as
// PgBouncer does ('#' and ';' start a comment line); a line it cannot read
// is returned as a message (PgBouncer stops loading the configuration).
func parseOptions(text string) ([]optionLine, []string) {
	var out []optionLine
	var broken []string
	for i, raw := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		l := redactOptions(strings.TrimSpace(raw))
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t@") {
			broken = append(broken, fmt.Sprintf("line %d %q is not a key = value line PgBouncer can read: it stops loading the configuration", i+1, l))
			continue
		}
		text := k + " = " + strings.Join(strings.Fields(v), " ")
		out = append(out, optionLine{key: k, text: text})
	}
	return out, broken
}

// passwordOption matches a password= option of a connection string, the
// value bare or single-quoted (a database.txt entry may carry the server
// password, which Pigsty never writes).
var passwordOption = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.|'')*'?|\S*)`)

// redactOptions hides the value of every password= option.
func redactOptions(s string) string {
	return passwordOption.ReplaceAllString(s, "password="+model.Redacted)
}

func compareOptions(f File, want string, live model.PoolerFile) (Finding, bool) {
	if live.Err != "" {
		return unreadable(f, live.Path, live.Err), true
	}
	w, _ := parseOptions(want)
	l, broken := parseOptions(live.Text)
	items := func(ls []optionLine) []item {
		out := make([]item, len(ls))
		for i, x := range ls {
			out[i] = item{id: x.key, key: x.text, show: x.text}
		}
		return out
	}
	what := "database"
	if f == Useropts {
		what = "user"
	}
	return diffItems(f, items(w), items(l), broken, fmt.Sprintf("%d %ss", len(w), what), "value")
}

func compareHBA(want *hba.File, live model.PoolerFile) (Finding, bool) {
	if live.Err != "" {
		return unreadable(HBA, live.Path, live.Err), true
	}
	lines, errs := hba.ParsePgBouncer(live.Text)
	d := hba.Compare(want.Lines, lines)
	if d.Empty() && len(errs) == 0 {
		return Finding{}, false
	}
	var diff []string
	for _, e := range d.Entries {
		diff = append(diff, e.String())
	}
	for _, e := range errs {
		diff = append(diff, "! "+e.Error())
	}
	return Finding{File: HBA, Object: HBA.Base(), Want: fmt.Sprintf("%d rules", len(want.Lines)),
		Have:   describe(len(d.Missing), len(d.Unexpected), 0, len(d.Moved), len(errs), ""),
		Reason: "live rules differ from the rendered file", Diff: diff}, true
}
