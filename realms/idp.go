package realms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Identity providers are written through the service, like clients, users
// and roles, so that the trusted-issuer list Knox bearer topologies and
// token exchange consult on every request is cached per realm write
// generation instead of listed from the store each time.

// Identity-provider config keys of Gatehouse's own (Keycloak's OIDC
// providers have none like them).
const (
	// IDPPrincipalClaim names a claim of the provider's tokens whose value
	// is the local username they speak for when the user has no federated
	// identity link. Unset (the default), only links map.
	IDPPrincipalClaim = "principalClaim"
	// IDPAllowAdminMapping set to "true" lets the provider's tokens speak
	// for users who hold admin rights.
	IDPAllowAdminMapping = "allowAdminMapping"
	idpClientSecret      = "clientSecret"
)

// MaskedSecret is what the admin API shows instead of a stored secret, and
// what a client sends back to keep it.
const MaskedSecret = "**********"

// ErrAdminMapping: the identity provider's token would speak for a user
// holding admin rights, which the provider's config does not allow.
var ErrAdminMapping = errors.New("realms: identity provider may not map onto a user with admin rights")

func idpSecretAAD(realmID, alias string) []byte {
	return []byte("idp-secret:" + realmID + "/" + alias)
}

// CreateIdentityProvider validates and stores a realm's identity provider.
func (s *Service) CreateIdentityProvider(ctx context.Context, realmName string, p store.IdentityProvider) (store.IdentityProvider, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return p, err
	}
	if err := s.prepareIdentityProvider(ctx, realmID, &p, nil); err != nil {
		return p, err
	}
	defer s.changed(ctx, realmID)
	return p, s.store.CreateIdentityProvider(ctx, realmID, p)
}

// UpdateIdentityProvider applies fn and re-validates. fn must only set
// fields: it runs on a copy first, so that the realm binding and the
// sealing are settled outside the store's write transaction.
func (s *Service) UpdateIdentityProvider(ctx context.Context, realmName, alias string, fn func(*store.IdentityProvider) error) (store.IdentityProvider, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return store.IdentityProvider{}, err
	}
	cur, err := s.store.GetIdentityProvider(ctx, realmID, alias)
	if err != nil {
		return store.IdentityProvider{}, err
	}
	next := cloneIDP(cur)
	if len(cur.SealedClientSecret) > 0 {
		// As the admin API shows it: an fn that keeps the config keeps the
		// secret, one that replaces the config decides.
		if next.Config == nil {
			next.Config = map[string]string{}
		}
		next.Config[idpClientSecret] = MaskedSecret
	}
	if err := fn(&next); err != nil {
		return store.IdentityProvider{}, err
	}
	next.Alias = alias
	if err := s.prepareIdentityProvider(ctx, realmID, &next, &cur); err != nil {
		return store.IdentityProvider{}, err
	}
	defer s.changed(ctx, realmID)
	return s.store.UpdateIdentityProvider(ctx, realmID, alias, func(p *store.IdentityProvider) error {
		if !reflect.DeepEqual(*p, cur) {
			return &store.ConflictError{Kind: "identity-provider", Field: "alias", Value: alias}
		}
		*p = cloneIDP(next)
		return nil
	})
}

func cloneIDP(p store.IdentityProvider) store.IdentityProvider {
	c := p
	if p.Config != nil {
		c.Config = make(map[string]string, len(p.Config))
		for k, v := range p.Config {
			c.Config[k] = v
		}
	}
	c.SealedClientSecret = append([]byte(nil), p.SealedClientSecret...)
	if len(c.SealedClientSecret) == 0 {
		c.SealedClientSecret = nil
	}
	return c
}

// prepareIdentityProvider validates p, binds it to a realm of this server
// when it has no JWKS URL, and seals config.clientSecret. old is the stored
// record on update (nil on create).
func (s *Service) prepareIdentityProvider(ctx context.Context, realmID string, p *store.IdentityProvider, old *store.IdentityProvider) error {
	if err := ValidateIdentityProvider(p); err != nil {
		return err
	}
	if err := s.bindProviderRealm(ctx, p, old); err != nil {
		return err
	}
	return s.sealProviderSecret(realmID, p, old)
}

// bindProviderRealm fixes which realm of this server a provider without a
// JWKS URL is. The issuer URL names the realm once, when the issuer is set;
// from then on the provider is that realm by ID, whatever the realm is
// later called and whatever host a request names. The issuer's host is not
// consulted: it cannot tell this server from another without a configured
// hostname, which is why a provider elsewhere needs its JWKS URL.
func (s *Service) bindProviderRealm(ctx context.Context, p *store.IdentityProvider, old *store.IdentityProvider) error {
	if p.Config["jwksUrl"] != "" {
		p.RealmID = ""
		return nil
	}
	if old != nil && old.RealmID != "" && old.Config["issuer"] == p.Config["issuer"] && old.Config["jwksUrl"] == "" {
		p.RealmID = old.RealmID
		return nil
	}
	name, ok := issuerRealmName(p.Config["issuer"])
	if ok {
		st, err := s.Realm(ctx, name)
		if err == nil {
			p.RealmID = st.Realm.ID
			return nil
		}
		if !errors.Is(err, ErrRealmNotFound) {
			return err
		}
	}
	return invalid("config.jwksUrl", "the issuer names no realm of this server: an external issuer needs config.jwksUrl")
}

// issuerRealmName reads {name} from an issuer URL ending in /realms/{name}.
func issuerRealmName(iss string) (string, bool) {
	u, err := url.Parse(iss)
	if err != nil {
		return "", false
	}
	i := strings.LastIndex(u.Path, "/realms/")
	if i < 0 {
		return "", false
	}
	name := u.Path[i+len("/realms/"):]
	return name, ValidRealmName(name)
}

// sealProviderSecret moves config.clientSecret into SealedClientSecret. The
// masked value keeps the stored secret; an absent or empty one clears it.
func (s *Service) sealProviderSecret(realmID string, p *store.IdentityProvider, old *store.IdentityProvider) error {
	v, sent := p.Config[idpClientSecret]
	delete(p.Config, idpClientSecret)
	p.SealedClientSecret = nil
	switch {
	case !sent || v == "":
		return nil
	case v == MaskedSecret && old != nil:
		if len(old.SealedClientSecret) > 0 {
			p.SealedClientSecret = append([]byte(nil), old.SealedClientSecret...)
			return nil
		}
		// A record stored before secrets were sealed keeps its plaintext in
		// config: seal that.
		if v = old.Config[idpClientSecret]; v == "" || v == MaskedSecret {
			return nil
		}
	case v == MaskedSecret:
		return invalid("config.clientSecret", "the masked value cannot be stored as a secret")
	}
	if s.sealer == nil {
		return errors.New("identity provider secret: no sealer")
	}
	sealed, err := s.sealer.Seal([]byte(v), idpSecretAAD(realmID, p.Alias))
	if err != nil {
		return fmt.Errorf("seal identity provider secret: %w", err)
	}
	p.SealedClientSecret = sealed
	return nil
}

// IdentityProviderSecret opens a provider's sealed client secret ("" when
// it has none).
func (s *Service) IdentityProviderSecret(realmID string, p store.IdentityProvider) (string, error) {
	if len(p.SealedClientSecret) == 0 {
		return "", nil
	}
	b, err := s.sealer.Open(p.SealedClientSecret, idpSecretAAD(realmID, p.Alias))
	if err != nil {
		return "", fmt.Errorf("identity provider %s secret: %w", p.Alias, err)
	}
	return string(b), nil
}

// DeleteIdentityProvider removes a realm's identity provider and every
// user's link to it.
func (s *Service) DeleteIdentityProvider(ctx context.Context, realmName, alias string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
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

// RealmByID returns the current snapshot of the realm with that ID (a
// renamed realm is found under its new name).
func (s *Service) RealmByID(ctx context.Context, id string) (*RealmState, error) {
	r, err := s.store.GetRealmByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrRealmNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := s.Realm(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	if st.Realm.ID != id {
		// Renamed between the two reads: the name now belongs to another.
		return nil, ErrRealmNotFound
	}
	return st, nil
}

// FederatedUser is the realm user a verified token of identity provider p
// speaks for: the user linked to the token's sub, else, when the provider
// names a principal claim, the user with that claim's value as username.
// Never a service account, a disabled user (ErrUserDisabled) or, unless the
// provider allows it, a user holding admin rights (ErrAdminMapping).
func (s *Service) FederatedUser(ctx context.Context, realm store.Realm, p store.IdentityProvider, claims map[string]any) (store.User, error) {
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return store.User{}, ErrUserNotFound
	}
	u, err := s.store.GetUserByFederatedIdentity(ctx, realm.ID, p.Alias, sub)
	if errors.Is(err, store.ErrNotFound) {
		name, _ := claims[p.Config[IDPPrincipalClaim]].(string)
		if p.Config[IDPPrincipalClaim] == "" || name == "" {
			return store.User{}, ErrUserNotFound
		}
		u, err = s.store.GetUserByUsername(ctx, realm.ID, name)
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.ServiceAccountClientID != "") {
		return store.User{}, ErrUserNotFound
	}
	if err != nil {
		return store.User{}, err
	}
	if !u.Enabled {
		return store.User{}, ErrUserDisabled
	}
	if p.Config[IDPAllowAdminMapping] != "true" {
		admin, err := s.HoldsAdminRights(ctx, realm, u)
		if err != nil {
			return store.User{}, err
		}
		if admin {
			return store.User{}, ErrAdminMapping
		}
	}
	u.Credentials = nil
	return u, nil
}

// HoldsAdminRights reports whether u holds any admin right of the realm (a
// realm-management role or, in master, admin or create-realm), resolved by
// the built-in roles' IDs like every other rights check: rights that an
// identity provider must not reach by default.
func (s *Service) HoldsAdminRights(ctx context.Context, realm store.Realm, u store.User) (bool, error) {
	rights, err := s.AdminRights(ctx, realm, u)
	if err != nil {
		return false, err
	}
	return len(rights.Keys()) > 0, nil
}

// FederatedIdentities lists a user's identity provider links.
func (s *Service) FederatedIdentities(ctx context.Context, realmName, userID string) ([]store.FederatedIdentity, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, realmID, userID)
	if err != nil {
		return nil, err
	}
	return u.FederatedIdentities, nil
}

// ErrAlreadyLinked: the user already has a link to that identity provider.
var ErrAlreadyLinked = errors.New("realms: user is already linked with the identity provider")

// LinkFederatedIdentity links a user to an account of one of the realm's
// identity providers (Keycloak's federated identity). The provider must
// exist; the account may be linked to one user only.
func (s *Service) LinkFederatedIdentity(ctx context.Context, realmName, userID string, f store.FederatedIdentity) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	if _, err := s.store.GetIdentityProvider(ctx, realmID, f.IdentityProvider); errors.Is(err, store.ErrNotFound) {
		return invalid("identityProvider", "Could not find identity provider")
	} else if err != nil {
		return err
	}
	if f.UserID == "" || len(f.UserID) > 255 {
		return invalid("userId", "userId is required (at most 255 characters)")
	}
	if f.UserName == "" {
		f.UserName = f.UserID
	}
	if err := printableName("userName", f.UserName, 255); err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		for _, l := range u.FederatedIdentities {
			if l.IdentityProvider == f.IdentityProvider {
				return ErrAlreadyLinked
			}
		}
		u.FederatedIdentities = append(u.FederatedIdentities, f)
		return nil
	})
	return err
}

// UnlinkFederatedIdentity removes a user's link to identity provider alias
// (store.ErrNotFound when there is none).
func (s *Service) UnlinkFederatedIdentity(ctx context.Context, realmName, userID, alias string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
	_, err = s.store.UpdateUser(ctx, realmID, userID, func(u *store.User) error {
		var kept []store.FederatedIdentity
		for _, l := range u.FederatedIdentities {
			if l.IdentityProvider != alias {
				kept = append(kept, l)
			}
		}
		if len(kept) == len(u.FederatedIdentities) {
			return store.ErrNotFound
		}
		u.FederatedIdentities = kept
		return nil
	})
	return err
}
