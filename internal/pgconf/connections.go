package pgconf

import (
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// Aspects of PostgreSQL 18's log_connections, a list where 17 and older
// have a Boolean.
const (
	aspectReceipt = 1 << iota
	aspectAuthentication
	aspectAuthorization
	aspectSetupDurations

	// "on" (and the other Boolean spellings, alone) keep their pre-18
	// meaning; "all" adds setup_durations.
	aspectsOn  = aspectReceipt | aspectAuthentication | aspectAuthorization
	aspectsAll = aspectsOn | aspectSetupDurations
)

// isConnectionAspects reports whether s is log_connections as PostgreSQL
// 18 has it: a string listing aspects.
func isConnectionAspects(s *model.LiveSetting) bool {
	return s != nil && s.VarType == "string" && strings.EqualFold(s.Name, "log_connections")
}

// connectionAspects reads a log_connections value the way PostgreSQL 18's
// check hook does: an identifier list (quotes allowed, case folded), empty
// for none; a Boolean spelling alone is on (receipt, authentication,
// authorization) or off; otherwise each element is one of receipt,
// authentication, authorization, setup_durations or all. Refusals are
// worded like the server's.
func connectionAspects(value string, s *model.LiveSetting) (int, error) {
	elems, ok := listParam{identifiers: true}.split(value)
	if !ok {
		e := invalidValue(s.Name, value, "")
		e.Detail = `Invalid list syntax in parameter "` + s.Name + `".`
		return 0, e
	}
	if len(elems) == 1 {
		if on, ok := parseBool(elems[0]); ok {
			if on {
				return aspectsOn, nil
			}
			return 0, nil
		}
	}
	set := 0
	for _, el := range elems {
		switch downcase(el) {
		case "receipt":
			set |= aspectReceipt
		case "authentication":
			set |= aspectAuthentication
		case "authorization":
			set |= aspectAuthorization
		case "setup_durations":
			set |= aspectSetupDurations
		case "all":
			set |= aspectsAll
		default:
			e := invalidValue(s.Name, value, "")
			if _, isBool := parseBool(el); isBool {
				e.Detail = `Cannot specify log_connections option "` + el + `" in a list with other options.`
			} else {
				e.Detail = `Invalid option "` + el + `".`
			}
			return 0, e
		}
	}
	return set, nil
}
