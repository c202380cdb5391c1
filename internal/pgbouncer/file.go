package pgbouncer

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// File is one of the files Pigsty renders for PgBouncer.
type File uint8

// The files, in the order Pigsty's pgbouncer tasks write them.
const (
	Userlist File = iota // userlist.txt (auth_file)
	Useropts             // useropts.txt (the [users] section)
	Database             // database.txt (the [databases] section)
	HBA                  // pgb_hba.conf (auth_hba_file)
	INI                  // pgbouncer.ini: Pigsty's, read (SHOW CONFIG), never rendered or written
)

// AllFiles lists the files Pigsty renders from the spec (not INI).
var AllFiles = []File{Userlist, Useropts, Database, HBA}

var fileNames = [...]string{"userlist", "useropts", "database", "hba", "ini"}

var fileBases = [...]string{"userlist.txt", "useropts.txt", "database.txt", "pgb_hba.conf", "pgbouncer.ini"}

// Dir is where Pigsty keeps PgBouncer's configuration.
const Dir = "/etc/pgbouncer"

// String is the file's short name, as the render CLI's --file takes it.
func (f File) String() string { return fileNames[f] }

// Base is the file's name in Dir.
func (f File) Base() string { return fileBases[f] }

// Path is where Pigsty writes the file.
func (f File) Path() string { return Dir + "/" + fileBases[f] }

// ParseFile reads a short name (userlist, useropts, database, hba) or a
// file name (userlist.txt … pgb_hba.conf).
func ParseFile(s string) (File, error) {
	for _, f := range AllFiles {
		if s == f.String() || s == f.Base() {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown PgBouncer file %q (known: %s)", s, strings.Join(fileNames[:len(AllFiles)], ", "))
}

// Live is where the pooler's file f was read (st), and why it was not
// ("" when it was).
func Live(st *model.PoolerState, f File) (path, err string) {
	switch f {
	case Userlist:
		return st.Userlist.Path, st.Userlist.Err
	case Useropts:
		return st.Useropts.Path, st.Useropts.Err
	case Database:
		return st.Database.Path, st.Database.Err
	case HBA:
		return st.HBA.Path, st.HBA.Err
	}
	return st.Config["conffile"], ""
}
