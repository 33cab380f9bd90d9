package realms

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
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

// NarrowScopes keeps only the requested scopes that were granted before
// (a refresh or an exchange that asks for less; an empty request keeps
// everything) and returns them with the client's token plan. Default
// scopes stay whatever is asked: Keycloak never drops them. A requested
// scope neither granted nor a default scope of the client is an
// *InvalidScopeError.
func (s *Service) NarrowScopes(ctx context.Context, r store.Realm, c store.Client, granted []string, requested string) ([]string, *TokenPlan, error) {
	keep := granted
	if strings.TrimSpace(requested) != "" {
		def, _, err := s.ClientScopesOf(ctx, r, c)
		if err != nil {
			return nil, nil, err
		}
		want := strings.Fields(requested)
		for _, w := range want {
			if !slices.Contains(granted, w) && !slices.ContainsFunc(def, func(cs store.ClientScope) bool { return cs.Name == w }) {
				return nil, nil, &InvalidScopeError{Requested: requested}
			}
		}
		keep = nil
		for _, g := range granted {
			if slices.Contains(want, g) {
				keep = append(keep, g)
			}
		}
	}
	opt, err := s.OptionalIn(ctx, r, c, strings.Join(keep, " "))
	if err != nil {
		return nil, nil, err
	}
	plan, err := s.TokenPlan(ctx, r, c, opt)
	if err != nil {
		return nil, nil, err
	}
	return plan.Granted(slices.Contains(keep, "openid")), plan, nil
}
