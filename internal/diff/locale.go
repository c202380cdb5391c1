package diff

import (
	"fmt"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// creationOnlyLocale adds to diffs the locale-provider options of d that
// differ from the existing database: the provider (15+), its ICU locale,
// ICU rules (16+) and builtin locale (17+). Only what the spec sets and the
// server's version has is compared (older versions refuse the database
// when it is created, see unsupportedDatabaseOptions). Locale names are
// compared as the server canonicalises them: en_US is the ICU language tag
// en-US, C.UTF8 the builtin C.UTF-8.
func (b *builder) creationOnlyLocale(d *model.Database, live *model.LiveDatabase, diffs *[]string) {
	major := b.version / 10000
	differs := func(what, want, have string, since int, same func(a, b string) bool) {
		if want != "" && major >= since && !same(want, have) {
			if have == "" {
				have = "not set"
			}
			*diffs = append(*diffs, fmt.Sprintf("%s is %s, the spec says %s", what, have, want))
		}
	}
	provider := strings.ToLower(live.LocaleProvider)
	differs("locale_provider", d.LocaleProvider, live.LocaleProvider, 15, strings.EqualFold)
	if d.LocaleProvider == "" || strings.EqualFold(d.LocaleProvider, provider) {
		if provider == "icu" {
			differs("icu_locale", d.ICULocale, live.ICULocale, 15, sameLocaleName)
			differs("icu_rules", d.ICURules, live.ICURules, 16, func(a, b string) bool { return a == b })
		}
		if provider == "builtin" {
			differs("builtin_locale", d.BuiltinLocale, live.BuiltinLocale, 17, sameLocaleName)
		}
	}
}

// sameLocaleName compares locale names case-insensitively, with - and _
// alike and ignored: en_US is en-US, C.UTF8 is C.UTF-8.
func sameLocaleName(a, b string) bool {
	norm := strings.NewReplacer("-", "", "_", "")
	return strings.EqualFold(norm.Replace(a), norm.Replace(b))
}
