package pgconf

import "strings"

// MaySecret reports whether a value of the parameter may hold a
// credential: a connection string with password=, or a shell command that
// may embed one. Plans, logs and errors never show such a value; it travels
// only in the fields that redact it (model.Secret).
func MaySecret(name string) bool {
	switch strings.ToLower(name) {
	case "primary_conninfo", "archive_command", "restore_command", "archive_cleanup_command",
		"recovery_end_command", "ssl_passphrase_command":
		return true
	}
	return false
}
