package store

import (
	"slices"
	"strings"
)

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

// Matches reports whether u is selected by every filter of q (paging
// aside), as the stores that scan users apply them.
func (q UserQuery) Matches(u User) bool {
	if u.ServiceAccountClientID != "" && !q.ServiceAccounts {
		return false
	}
	if q.Enabled != nil && u.Enabled != *q.Enabled {
		return false
	}
	if q.RoleID != "" && !slices.Contains(u.RoleIDs, q.RoleID) {
		return false
	}
	if q.GroupID != "" && !slices.Contains(u.GroupIDs, q.GroupID) {
		return false
	}
	match := func(field, want string) bool {
		if want == "" {
			return true
		}
		if q.Exact {
			return strings.EqualFold(field, want)
		}
		return strings.Contains(strings.ToLower(field), strings.ToLower(want))
	}
	if !match(u.Username, q.Username) || !match(u.Email, q.Email) || !match(u.FirstName, q.FirstName) || !match(u.LastName, q.LastName) {
		return false
	}
	if q.Search != "" && !MatchSearch(q.Search, u.Username) && !MatchSearch(q.Search, u.Email) &&
		!MatchSearch(q.Search, u.FirstName) && !MatchSearch(q.Search, u.LastName) {
		return false
	}
	for k, v := range q.Attributes {
		if !slices.Contains(u.Attributes[k], v) {
			return false
		}
	}
	if q.IDPAlias != "" && !slices.ContainsFunc(u.FederatedIdentities, func(f FederatedIdentity) bool {
		return f.IdentityProvider == q.IDPAlias && (q.IDPUserID == "" || f.UserID == q.IDPUserID)
	}) {
		return false
	}
	return true
}
