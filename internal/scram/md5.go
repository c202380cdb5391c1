package scram

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

var errMalformedMD5 = errors.New("malformed md5 password hash")

// MD5 returns the hash PostgreSQL stores for password_encryption = md5:
// "md5" followed by the hex MD5 of the password and the role name
// concatenated. No SASLprep is applied; the role name is the salt, so
// renaming a role invalidates its md5 password.
func MD5(password, user string) string {
	sum := md5.Sum([]byte(password + user))
	return "md5" + hex.EncodeToString(sum[:])
}

// MatchesMD5 reports whether stored is the md5 hash of password for the
// role user, comparing in constant time. It fails when stored is not an md5
// hash ("md5" and 32 lowercase hex digits).
func MatchesMD5(password, user, stored string) (bool, error) {
	if model.KindOfPassword(stored) != model.SecretMD5 {
		return false, errMalformedMD5
	}
	return subtle.ConstantTimeCompare([]byte(MD5(password, user)), []byte(stored)) == 1, nil
}
