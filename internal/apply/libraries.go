package apply

import (
	"fmt"
	"path"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/pgconf"
)

// dlSuffix is DLSUFFIX on the Linux builds of PostgreSQL.
const dlSuffix = ".so"

// checkLibraries returns why value may not be written to
// shared_preload_libraries on in, or "": every library must exist where the
// postmaster will look for it at its next start, or the server does not
// start (citusdata/test-automation #33).
//
// The lookup is PostgreSQL's own (expand_dynamic_library_name in dfmgr.c):
// a name without a slash is searched in each directory of
// dynamic_library_path, as given and then with ".so"; a name with a slash
// is tried as given and with ".so"; "$libdir" is pkglibdir. pkglibdir comes
// from the pg_config view, which is the server binary's own compiled-in
// value (unlike a pg_config program on the PATH, which may belong to
// another major version); existence is checked with pg_stat_file(path,
// true) by the server itself, so no SSH access is needed. Both need a
// superuser (pg_stat_file also works for pg_read_server_files); without
// them the value is refused, never written unchecked.
func (e *executor) checkLibraries(conn *pgx.Conn, in *model.Instance, value string, s *model.LiveSetting) string {
	norm, err := pgconf.Normalize(value, s)
	if err != nil {
		return fmt.Sprintf("refused value for %s on %s: %v", s.Name, in.Name(), err)
	}
	libs := splitIdentifiers(norm)
	if len(libs) == 0 {
		return ""
	}
	var libdir, dlpath string
	err = conn.QueryRow(e.ctx, libraryPathSQL).Scan(&libdir, &dlpath)
	if err != nil {
		return fmt.Sprintf("cannot check the libraries of shared_preload_libraries on %s: %s", in.Name(), message(err))
	}
	for _, lib := range libs {
		cands, err := libraryCandidates(lib, libdir, dlpath)
		if err != nil {
			return fmt.Sprintf("refused value for shared_preload_libraries on %s: %v", in.Name(), err)
		}
		var found bool
		err = conn.QueryRow(e.ctx, libraryInstalledSQL, cands).Scan(&found)
		if err != nil {
			return fmt.Sprintf("cannot check library %q on %s: %s", lib, in.Name(), message(err))
		}
		if !found {
			return fmt.Sprintf("library %q of shared_preload_libraries is not installed on %s (looked for %s): the server would not start",
				lib, in.Name(), strings.Join(cands, ", "))
		}
	}
	return ""
}

// libraryCandidates lists the files PostgreSQL tries for lib, in order.
func libraryCandidates(lib, libdir, dlpath string) ([]string, error) {
	var dirs []string
	if !strings.Contains(lib, "/") {
		for _, d := range strings.Split(dlpath, ":") {
			if d = strings.TrimSpace(d); d != "" {
				dirs = append(dirs, d)
			}
		}
	} else {
		dirs = []string{""}
	}
	var out []string
	for _, name := range []string{lib, lib + dlSuffix} {
		for _, d := range dirs {
			p := name
			if d != "" {
				p = d + "/" + name
			}
			p, err := expandLibdir(p, libdir)
			if err != nil {
				return nil, err
			}
			out = append(out, path.Clean(p))
		}
	}
	return out, nil
}

// expandLibdir replaces a leading $libdir macro, as substitute_libpath_macro
// does; any other macro is an error there too.
func expandLibdir(p, libdir string) (string, error) {
	if !strings.HasPrefix(p, "$") {
		return p, nil
	}
	macro, rest, _ := strings.Cut(p, "/")
	if macro != "$libdir" {
		return "", fmt.Errorf("invalid macro name in dynamic library path: %s", p)
	}
	if rest == "" {
		return libdir, nil
	}
	return libdir + "/" + rest, nil
}

// splitIdentifiers splits a list as pgconf.Normalize shows it (elements
// separated by commas, each bare or double-quoted with doubled quotes) into
// its elements.
func splitIdentifiers(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			break
		}
		if s[i] == '"' {
			var b strings.Builder
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
			}
			out = append(out, b.String())
			continue
		}
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			j = len(s) - i
		}
		out = append(out, strings.TrimSpace(s[i:i+j]))
		i += j
	}
	return out
}
