package pgconf

import "github.com/pgreconciler/pgreconciler/internal/model"

// newestMajor is the newest PostgreSQL major whose rules this package
// knows.
const newestMajor = 18

// major is the PostgreSQL major version the pg_settings row s was read
// from; a row made by hand (Version 0) reads as PostgreSQL 15.
func major(s *model.LiveSetting) int {
	if s == nil || s.Version == 0 {
		return 15
	}
	return s.Version / 10000
}
