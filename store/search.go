package store

import "strings"

// MatchSearch reports whether value matches a Keycloak user-search pattern,
// case-insensitively: "\"x\"" matches x exactly; otherwise "*" matches any
// run of characters and the pattern is a prefix (Keycloak's default), so
// "al" matches "alice" and "*ic*" matches it too. "" and "*" match all.
func MatchSearch(pattern, value string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(value)
	if len(p) >= 2 && strings.HasPrefix(p, `"`) && strings.HasSuffix(p, `"`) {
		return v == p[1:len(p)-1]
	}
	parts := strings.Split(p, "*")
	// The first part anchors at the start; the rest follow in order.
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	for _, part := range parts[1:] {
		i := strings.Index(v, part)
		if i < 0 {
			return false
		}
		v = v[i+len(part):]
	}
	return true
}
