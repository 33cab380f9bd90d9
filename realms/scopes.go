package realms

import (
	"maps"
	"slices"
	"strings"
)

// Scopes follow Keycloak's stock client scopes: default scopes are always
// granted, optional ones when requested. Only scopes that Keycloak includes in
// the token's "scope" claim are listed there.
var (
	// defaultScopes are granted to every token; profile and email show in the
	// scope claim, the others are implied.
	defaultScopes      = []string{"profile", "email"}
	hiddenDefaultScope = map[string]bool{"roles": true, "web-origins": true, "acr": true, "basic": true}
	optionalScopes     = map[string]bool{"address": true, "phone": true, OfflineAccess: true, "microprofile-jwt": true, "organization": true}
)

// SupportedScopes lists every scope a client may request, for discovery.
func SupportedScopes() []string {
	out := []string{"openid"}
	out = append(out, defaultScopes...)
	out = slices.AppendSeq(out, maps.Keys(hiddenDefaultScope))
	out = slices.AppendSeq(out, maps.Keys(optionalScopes))
	slices.Sort(out[1:])
	return out
}

// GrantScopes turns a requested scope parameter into the granted scope list
// (openid first, as Keycloak orders it). Unknown scopes are returned in bad.
func GrantScopes(requested string) (granted []string, bad []string) {
	fields := strings.Fields(requested)
	openid := false
	var optional []string
	for _, s := range fields {
		switch {
		case s == "openid":
			openid = true
		case hiddenDefaultScope[s] || s == "profile" || s == "email":
		case optionalScopes[s]:
			optional = appendOnce(optional, s)
		default:
			bad = appendOnce(bad, s)
		}
	}
	if openid {
		granted = append(granted, "openid")
	}
	granted = append(granted, optional...)
	granted = append(granted, defaultScopes...)
	return granted, bad
}

// NarrowScopes keeps only the requested scopes that were granted before, for
// a refresh that asks for less. An empty request keeps everything.
func NarrowScopes(granted []string, requested string) (out []string, bad []string) {
	if strings.TrimSpace(requested) == "" {
		return granted, nil
	}
	want := strings.Fields(requested)
	for _, s := range want {
		if !slices.Contains(granted, s) && !hiddenDefaultScope[s] {
			bad = appendOnce(bad, s)
		}
	}
	for _, s := range granted {
		// Default scopes stay: Keycloak never drops them on refresh.
		if slices.Contains(want, s) || slices.Contains(defaultScopes, s) {
			out = append(out, s)
		}
	}
	return out, bad
}
