package realms

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidRealmName reports whether name may name a realm. Realm names appear
// in URL paths and bucket names; a conservative alphabet (letters, digits,
// '.', '_', '-', starting with a letter or digit, at most 100 bytes, no "..")
// rules out traversal and look-alike tricks. Hand-written rather than a
// regexp: it runs on every protocol request.
func ValidRealmName(name string) bool {
	if len(name) == 0 || len(name) > 100 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidEntityID reports whether id may be the ID of an entity chosen by a
// caller (a client's "id" on create): IDs appear as single URL path
// segments, so a slash, a dot segment or a control character would make
// the entity unreachable (it could never be read or deleted again). A UUID
// fits the alphabet.
func ValidEntityID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
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

// visibleName refuses characters that render as nothing or as a plain
// space: control (Cc) and format (Cf: zero-width, bidi overrides, soft
// hyphen, BOM) characters, line and paragraph separators (Zl, Zp) and
// whitespace beyond ASCII (no-break and ideographic spaces, ...).
func visibleName(field, v string) error {
	for _, r := range v {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || (r > unicode.MaxASCII && unicode.IsSpace(r)) {
			return invalid(field, "%s must not contain invisible characters (U+%04X)", field, r)
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
