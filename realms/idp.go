package realms

import (
	"context"

	"github.com/gatehouse/gatehouse/store"
)

// Identity providers are written through the service, like clients, users
// and roles, so that the trusted-issuer list Knox bearer topologies and
// token exchange consult on every request is cached per realm write
// generation instead of listed from the store each time.

// CreateIdentityProvider validates and stores a realm's identity provider.
func (s *Service) CreateIdentityProvider(ctx context.Context, realmName string, p store.IdentityProvider) (store.IdentityProvider, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return p, err
	}
	if err := ValidateIdentityProvider(&p); err != nil {
		return p, err
	}
	defer s.changed(realmID)
	return p, s.store.CreateIdentityProvider(ctx, realmID, p)
}

// UpdateIdentityProvider applies fn and re-validates.
func (s *Service) UpdateIdentityProvider(ctx context.Context, realmName, alias string, fn func(*store.IdentityProvider) error) (store.IdentityProvider, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.IdentityProvider{}, err
	}
	defer s.changed(realmID)
	return s.store.UpdateIdentityProvider(ctx, realmID, alias, func(p *store.IdentityProvider) error {
		if err := fn(p); err != nil {
			return err
		}
		return ValidateIdentityProvider(p)
	})
}

// DeleteIdentityProvider removes a realm's identity provider.
func (s *Service) DeleteIdentityProvider(ctx context.Context, realmName, alias string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(realmID)
	return s.store.DeleteIdentityProvider(ctx, realmID, alias)
}

// IdentityProviders lists a realm's identity providers (shared: callers
// must not modify them), cached until the realm's next write.
func (s *Service) IdentityProviders(ctx context.Context, realmID string) ([]store.IdentityProvider, error) {
	return getCached(s, &s.idps, realmID, "", func() ([]store.IdentityProvider, error) {
		return s.store.ListIdentityProviders(ctx, realmID)
	})
}

// IdentityProvider is the realm's identity provider with alias, from the
// cached list, or store.ErrNotFound.
func (s *Service) IdentityProvider(ctx context.Context, realmID, alias string) (store.IdentityProvider, error) {
	ps, err := s.IdentityProviders(ctx, realmID)
	if err != nil {
		return store.IdentityProvider{}, err
	}
	for _, p := range ps {
		if p.Alias == alias {
			return p, nil
		}
	}
	return store.IdentityProvider{}, store.ErrNotFound
}
