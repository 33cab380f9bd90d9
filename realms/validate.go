package realms

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Realm names appear in URL paths and bucket names; a conservative alphabet
// rules out traversal ("..", "/") and look-alike tricks.
var realmNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ValidRealmName reports whether name may name a realm.
func ValidRealmName(name string) bool {
	return realmNameRE.MatchString(name) && !strings.Contains(name, "..")
}

func validateRealmName(name string) error {
	if name == "" {
		return invalid("realm", "realm name is required")
	}
	if !ValidRealmName(name) {
		return invalid("realm", "realm name may contain only letters, digits, '.', '_' and '-', must start with a letter or digit and be at most 100 characters")
	}
	return nil
}

// printableName checks a free-form identifier (clientId, username, role name):
// non-empty, bounded, valid UTF-8, no control characters.
func printableName(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "%s is required", field)
	}
	if len(v) > max {
		return invalid(field, "%s must be at most %d bytes", field, max)
	}
	if !utf8.ValidString(v) {
		return invalid(field, "%s must be valid UTF-8", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "%s must not contain control characters", field)
		}
	}
	return nil
}

func validateEmail(v string) error {
	if v == "" {
		return nil
	}
	if err := printableName("email", v, 254); err != nil {
		return err
	}
	at := strings.LastIndexByte(v, '@')
	if at < 1 || at == len(v)-1 || strings.ContainsAny(v, " \t") {
		return invalid("email", "invalid email address")
	}
	return nil
}
