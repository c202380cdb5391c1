package testenv

// BinDir is the directory holding initdb and postgres of the major the
// harness starts (Major), found as the harness finds it, with that major:
// for tests that run the programs themselves (internal/deploytest's
// container).
func BinDir() (dir string, major int, err error) {
	major, err = Major()
	if err != nil {
		return "", 0, err
	}
	b, err := findBinaries(major)
	return b.dir, major, err
}
