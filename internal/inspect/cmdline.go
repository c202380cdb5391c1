package inspect

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// commandLine is what the postmaster's command line sets: parameters
// given there override the configuration files and ALTER SYSTEM.
type commandLine struct {
	values map[string]string // by lower-case parameter name; the last occurrence wins
	// unknown is the first argument that is not understood (a debugging
	// flag, a positional argument): it may set parameters the reconciler
	// cannot name. "" when every argument was understood.
	unknown string
}

// scanCommandLine reads postmaster_opts.sql.
func scanCommandLine(rows pgx.Rows) (*commandLine, error) {
	var text string
	_, err := pgx.ForEachRow(rows, []any{&text}, func() error { return nil })
	if err != nil {
		return nil, err
	}
	c := parseCommandLine(text)
	return &c, nil
}

// shortFlag says which parameter a one-letter option of the postmaster
// sets (postmaster.c, PostmasterMain, PostgreSQL 15) and, for an option
// without an argument, to what value; ok is false for the options that
// set none or several.
func shortFlag(letter byte) (name, value string, ok bool) {
	switch letter {
	case 'B':
		return "shared_buffers", "", true
	case 'h':
		return "listen_addresses", "", true
	case 'k':
		return "unix_socket_directories", "", true
	case 'N':
		return "max_connections", "", true
	case 'p':
		return "port", "", true
	case 'S':
		return "work_mem", "", true
	case 'W':
		return "post_auth_delay", "", true
	case 'F':
		return "fsync", "off", true
	case 'i':
		return "listen_addresses", "*", true
	case 'l':
		return "ssl", "on", true
	case 'O':
		return "allow_system_table_mods", "on", true
	case 'P':
		return "ignore_system_indexes", "on", true
	case 's':
		return "log_statement_stats", "on", true
	}
	return "", "", false
}

// parseCommandLine reads postmaster.opts: the program's path, then each
// argument in double quotes, as CreateOptsFile writes it. The quotes are
// not escaped, so an argument holding `" "` is split there (and most
// likely reported as not understood). It understands -c name=value,
// --name=value (dashes in the name are underscores, as the postmaster
// reads them), -D, and the one-letter options that set a parameter;
// anything else is recorded in unknown.
func parseCommandLine(text string) commandLine {
	c := commandLine{values: map[string]string{}}
	text = strings.TrimRight(text, "\r\n")
	i := strings.Index(text, ` "`)
	if i < 0 {
		return c // the program alone
	}
	rest := text[i+1:]
	if len(rest) < 2 || !strings.HasSuffix(rest, `"`) {
		c.unknown = rest
		return c
	}
	args := strings.Split(rest[1:len(rest)-1], `" "`)
	for k := 0; k < len(args); k++ {
		arg := args[k]
		next := func() (string, bool) {
			if k+1 < len(args) {
				k++
				return args[k], true
			}
			return "", false
		}
		if !c.option(arg, next) && c.unknown == "" {
			c.unknown = arg
		}
	}
	return c
}

// option reads one argument (taking the next one as its value where the
// option wants one) and reports whether it was understood.
func (c *commandLine) option(arg string, next func() (string, bool)) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	if arg[1] == '-' {
		return c.set(arg[2:])
	}
	for j := 1; j < len(arg); j++ { // flags may be grouped: -Fl
		letter := arg[j]
		name, set, ok := shortFlag(letter)
		switch {
		case letter == 'c' || letter == 'D':
		case !ok:
			return false
		case set != "":
			c.values[name] = set
			continue
		}
		value := arg[j+1:] // -cname=value, -B128MB
		if value == "" {
			if value, ok = next(); !ok {
				return false
			}
		}
		switch letter {
		case 'c':
			return c.set(value)
		case 'D':
			return true // the data directory: no parameter of its own
		}
		c.values[name] = value
		return true
	}
	return true
}

// set records "name=value" as ParseLongOption reads it.
func (c *commandLine) set(item string) bool {
	name, value, ok := strings.Cut(item, "=")
	if !ok || name == "" {
		return false // the postmaster refuses to start
	}
	c.values[strings.ToLower(strings.ReplaceAll(name, "-", "_"))] = value
	return true
}
