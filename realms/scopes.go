package realms

import (
	"context"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// builtinScopeNames are the built-in client scopes every realm starts with
// (see builtinClientScopes), which discovery advertises.
var builtinScopeNames = []string{"acr", "address", "basic", "email", "microprofile-jwt", OfflineAccess, "phone", "profile", "roles", "web-origins"}

// SupportedScopes lists the built-in scopes, for discovery.
func SupportedScopes() []string {
	return append([]string{"openid"}, builtinScopeNames...)
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
