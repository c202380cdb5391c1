package hba

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// optionMethods lists, per authentication option PostgreSQL 15 knows, the
// methods it is valid for and how parse_hba_auth_opt names them in its
// error message.
var optionMethods = map[string]struct {
	methods []string
	label   string
}{
	"map":                 {[]string{"ident", "peer", "gss", "sspi", "cert"}, "ident, peer, gssapi, sspi, and cert"},
	"clientcert":          {nil, ""}, // any method, hostssl only
	"clientname":          {nil, ""}, // any method, hostssl only
	"pamservice":          {[]string{"pam"}, "pam"},
	"pam_use_hostname":    {[]string{"pam"}, "pam"},
	"ldapurl":             {[]string{"ldap"}, "ldap"},
	"ldaptls":             {[]string{"ldap"}, "ldap"},
	"ldapscheme":          {[]string{"ldap"}, "ldap"},
	"ldapserver":          {[]string{"ldap"}, "ldap"},
	"ldapport":            {[]string{"ldap"}, "ldap"},
	"ldapbinddn":          {[]string{"ldap"}, "ldap"},
	"ldapbindpasswd":      {[]string{"ldap"}, "ldap"},
	"ldapsearchattribute": {[]string{"ldap"}, "ldap"},
	"ldapsearchfilter":    {[]string{"ldap"}, "ldap"},
	"ldapbasedn":          {[]string{"ldap"}, "ldap"},
	"ldapprefix":          {[]string{"ldap"}, "ldap"},
	"ldapsuffix":          {[]string{"ldap"}, "ldap"},
	"krb_realm":           {[]string{"gss", "sspi"}, "gssapi and sspi"},
	"include_realm":       {[]string{"gss", "sspi"}, "gssapi and sspi"},
	"compat_realm":        {[]string{"sspi"}, "sspi"},
	"upn_username":        {[]string{"sspi"}, "sspi"},
	"radiusservers":       {[]string{"radius"}, "radius"},
	"radiussecrets":       {[]string{"radius"}, "radius"},
	"radiusidentifiers":   {[]string{"radius"}, "radius"},
	"radiusports":         {[]string{"radius"}, "radius"},
}

// boolOptions are the options PostgreSQL reads as "1" = true, anything
// else = false, with their default per method (include_realm defaults to
// true for gss).
var boolOptions = map[string]bool{
	"include_realm": true, "ldaptls": true, "pam_use_hostname": true, "compat_realm": true, "upn_username": true,
}

// checkOption mirrors parse_hba_auth_opt's checks.
func checkOption(t ConnType, method, name, val string) string {
	spec, ok := optionMethods[name]
	if !ok {
		return fmt.Sprintf("unrecognized authentication option name: %q", name)
	}
	if spec.methods != nil && !slices.Contains(spec.methods, method) {
		return fmt.Sprintf("authentication option %q is only valid for authentication methods %s", name, spec.label)
	}
	switch name {
	case "clientcert":
		if t != HostSSL {
			return `clientcert can only be configured for "hostssl" rows`
		}
		switch {
		case val == "verify-ca" && method == "cert":
			return `clientcert can only be set to "verify-full" when using "cert" authentication`
		case val != "verify-full" && val != "verify-ca":
			return fmt.Sprintf("invalid value for clientcert: %q", val)
		}
	case "clientname":
		if t != HostSSL {
			return `clientname can only be configured for "hostssl" rows`
		}
		if val != "CN" && val != "DN" {
			return fmt.Sprintf("invalid value for clientname: %q", val)
		}
	case "ldapscheme":
		if val != "ldap" && val != "ldaps" {
			return fmt.Sprintf("invalid ldapscheme value: %q", val)
		}
	case "ldapport":
		if atoi(val) == 0 {
			return fmt.Sprintf("invalid LDAP port number: %q", val)
		}
	}
	return ""
}

// checkRequiredOptions mirrors the end of parse_hba_line for ldap and
// radius.
func checkRequiredOptions(method string, opts []Option) string {
	has := map[string]bool{}
	for _, o := range opts {
		has[o.Name] = true
	}
	switch method {
	case "ldap":
		if has["ldapprefix"] || has["ldapsuffix"] {
			if has["ldapbasedn"] || has["ldapbinddn"] || has["ldapbindpasswd"] || has["ldapsearchattribute"] || has["ldapsearchfilter"] {
				return "cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix"
			}
		} else if !has["ldapbasedn"] && !has["ldapurl"] {
			return `authentication method "ldap" requires argument "ldapbasedn", "ldapprefix", or "ldapsuffix" to be set`
		}
		if has["ldapsearchattribute"] && has["ldapsearchfilter"] {
			return "cannot use ldapsearchattribute together with ldapsearchfilter"
		}
	case "radius":
		if !has["radiusservers"] {
			return `authentication method "radius" requires argument "radiusservers" to be set`
		}
		if !has["radiussecrets"] {
			return `authentication method "radius" requires argument "radiussecrets" to be set`
		}
	}
	return ""
}

// normalizeOptions keeps the last value per name, writes booleans as 1/0
// and drops values equal to their default, so that a file's options and
// pg_hba_file_rules.options (fromView) compare equal: the view prints
// booleans as "true", always shows clientcert=verify-full for cert and
// include_realm=true for gss, and adds ldapscope=2.
func normalizeOptions(method string, opts []Option, fromView bool) []Option {
	last := map[string]string{}
	for _, o := range opts {
		last[o.Name] = o.Value
	}
	realm := method == "gss" || method == "sspi"
	if _, ok := last["include_realm"]; fromView && realm && !ok {
		last["include_realm"] = "false" // the view shows only true
	}
	out := make([]Option, 0, len(last))
	for name, v := range last {
		switch {
		case boolOptions[name]:
			on := v == "1"
			if fromView {
				on = v == "true"
			}
			def := name == "include_realm" && realm
			if on == def {
				continue
			}
			v = "0"
			if on {
				v = "1"
			}
		case name == "clientcert" && method == "cert", // implied verify-full
			name == "clientname" && v == "CN",
			name == "ldapscope" && fromView && v == "2":
			continue
		case name == "ldapport":
			v = strconv.Itoa(atoi(v))
		}
		out = append(out, Option{Name: name, Value: v})
	}
	slices.SortFunc(out, func(a, b Option) int { return cmp.Compare(a.Name, b.Name) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// atoi is C's atoi: leading decimal digits, 0 when there are none.
func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' || n > 1<<20 {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
