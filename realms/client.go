package realms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/store"
)

// Client attributes Gatehouse interprets (Keycloak's names).
const (
	AttrAccessTokenLifespan = "access.token.lifespan"
	AttrSecretRotationGrace = "client.secret.rotation.grace.seconds"
	AttrCCUseRefreshToken   = "client_credentials.use_refresh_token"
	AttrUseRefreshTokens    = "use.refresh.tokens"
	// AttrPostLogoutRedirectURIs lists the URIs RP-initiated logout may
	// return to, "##"-separated; "+" stands for the redirect URIs.
	AttrPostLogoutRedirectURIs = "post.logout.redirect.uris"
)

// ServiceAccountPrefix starts the username of every client's service account.
const ServiceAccountPrefix = "service-account-"

// secretAAD binds a sealed secret to its client so a sealed value copied
// onto another client does not open.
func secretAAD(realmID, clientUUID string) []byte {
	return []byte("client-secret:" + realmID + ":" + clientUUID)
}

// IssuedBeforeNotBefore reports whether a token issued at iat (unix
// seconds) is stale by the realm's, the client's or the user's notBefore.
// Every token check (access tokens, refresh grant, introspection) asks this
// one question.
func IssuedBeforeNotBefore(iat int64, r store.Realm, c store.Client, u store.User) bool {
	return iat < r.NotBefore || iat < c.NotBefore || iat < u.NotBefore
}

// ValidateClient checks a client's fields.
func ValidateClient(c *store.Client) error {
	if err := printableName("clientId", c.ClientID, 255); err != nil {
		return err
	}
	if strings.HasPrefix(c.ClientID, " ") || strings.HasSuffix(c.ClientID, " ") {
		return invalid("clientId", "clientId must not start or end with a space")
	}
	if v, ok := c.Attributes[AttrAccessTokenLifespan]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10*365*24*3600 {
			return invalid("attributes."+AttrAccessTokenLifespan, "must be a number of seconds")
		}
	}
	if v, ok := c.Attributes[AttrSecretRotationGrace]; ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return invalid("attributes."+AttrSecretRotationGrace, "must be a non-negative number of seconds")
		}
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return invalid("redirectUris", "%s", err)
		}
	}
	if v := c.Attributes[AttrPostLogoutRedirectURIs]; v != "" {
		for _, u := range strings.Split(v, "##") {
			if u == "+" {
				continue
			}
			if err := validRedirectURI(u); err != nil {
				return invalid("attributes."+AttrPostLogoutRedirectURIs, "%s", err)
			}
		}
	}
	if c.PublicClient && c.BearerOnly {
		return invalid("publicClient", "a client cannot be both public and bearer-only")
	}
	if c.PublicClient && c.ServiceAccountsEnabled {
		return invalid("serviceAccountsEnabled", "public clients cannot have service accounts")
	}
	if c.Authorization != nil {
		if c.PublicClient {
			return invalid("authorizationServicesEnabled", "only confidential clients can be resource servers")
		}
		if err := ValidateAuthzSettings(*c.Authorization); err != nil {
			return err
		}
	}
	return nil
}

// NewClient is what CreateClient needs: the client fields and, optionally, a
// secret chosen by the caller (empty: one is generated for confidential
// clients).
type NewClient struct {
	Client store.Client
	Secret string
}

// CreateClient validates and stores a client, generating an ID and (for
// confidential clients without one) a secret, and creating its
// service-account user when service accounts are enabled. It returns the
// stored client and the clear secret ("" for public clients).
func (s *Service) CreateClient(ctx context.Context, realmName string, nc NewClient) (store.Client, string, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.Client{}, "", err
	}
	realmID := st.Realm.ID
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	c := nc.Client
	if c.ID == "" {
		c.ID = NewID()
	}
	if !ValidEntityID(c.ID) {
		return store.Client{}, "", invalid("id", "id must be 1 to 64 letters, digits, '.', '_' or '-' (a UUID fits), and not '.' or '..'")
	}
	if err := ValidateClient(&c); err != nil {
		return store.Client{}, "", err
	}
	if err := s.checkClientScopeFields(ctx, st.Realm, &c); err != nil {
		return store.Client{}, "", err
	}
	now := s.now().UTC()
	c.CreatedAt = now
	c.Secret, c.Rotated = nil, nil
	secret := ""
	if !c.PublicClient {
		secret = nc.Secret
		if secret == "" {
			if secret, err = GenerateSecret(); err != nil {
				return store.Client{}, "", err
			}
		}
		sec, err := s.sealer.NewSecret(secret, now, secretAAD(realmID, c.ID))
		if err != nil {
			return store.Client{}, "", err
		}
		c.Secret = &sec
	}
	// The client and its service account are one transaction: a failure
	// leaves neither.
	if c.ServiceAccountsEnabled {
		err = s.store.CreateClientWithServiceAccount(ctx, realmID, c, s.newServiceAccount(st.Realm, c))
	} else {
		err = s.store.CreateClient(ctx, realmID, c)
	}
	if err != nil {
		return store.Client{}, "", err
	}
	return c, secret, nil
}

// newServiceAccount is the service-account user of client c of realm r,
// holding the realm's default roles.
func (s *Service) newServiceAccount(r store.Realm, c store.Client) store.User {
	u := store.User{
		ID: NewID(), Username: strings.ToLower(ServiceAccountPrefix + c.ClientID), Enabled: true,
		ServiceAccountClientID: c.ID, CreatedAt: s.now().UTC(),
	}
	if r.DefaultRoleID != "" {
		u.RoleIDs = []string{r.DefaultRoleID}
	}
	return u
}

// ensureServiceAccount creates the client's service-account user if missing.
func (s *Service) ensureServiceAccount(ctx context.Context, realmID string, c store.Client) error {
	if _, err := s.loadServiceAccount(ctx, realmID, c); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	r, err := s.store.GetRealmByID(ctx, realmID)
	if err != nil {
		return err
	}
	defer s.changed(ctx, realmID)
	return s.store.CreateUser(ctx, realmID, s.newServiceAccount(r, c))
}

// ServiceAccount returns the service-account user of client c.
func (s *Service) ServiceAccount(ctx context.Context, realmID string, c store.Client) (store.User, error) {
	return getCached(s, &s.serviceAccounts, realmID, c.ID, func() (store.User, error) {
		return s.loadServiceAccount(ctx, realmID, c)
	})
}

func (s *Service) loadServiceAccount(ctx context.Context, realmID string, c store.Client) (store.User, error) {
	u, err := s.store.GetUserByUsername(ctx, realmID, ServiceAccountPrefix+c.ClientID)
	if err != nil {
		return store.User{}, err
	}
	if u.ServiceAccountClientID != c.ID {
		// A person happens to hold that username; it is not the account.
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

// UpdateClient applies fn, re-validates, and creates the service-account
// user when service accounts were just enabled, in the same store
// transaction.
func (s *Service) UpdateClient(ctx context.Context, realmName, id string, fn func(*store.Client) error) (store.Client, error) {
	st, err := s.Realm(ctx, realmName)
	if err != nil {
		return store.Client{}, err
	}
	realmID := st.Realm.ID
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	return s.store.UpdateClientWithServiceAccount(ctx, realmID, id, func(c *store.Client) error {
		if err := fn(c); err != nil {
			return err
		}
		if err := validateMappers(c.ProtocolMappers); err != nil {
			return err
		}
		return ValidateClient(c)
	}, func(c store.Client) *store.User {
		if !c.ServiceAccountsEnabled {
			return nil
		}
		u := s.newServiceAccount(st.Realm, c)
		return &u
	})
}

// DeleteClient removes a client with its roles, sessions and service account.
func (s *Service) DeleteClient(ctx context.Context, realmName, id string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	if err := s.store.DeleteClient(ctx, realmID, id); err != nil {
		return err
	}
	// Its brute-force records would only linger.
	_ = s.clearClientFailures(ctx, realmID, id)
	return nil
}

// ClientByClientID and Client read a client by clientId or by ID from
// caches kept until the realm's next write through the service (clients
// are a bounded population per realm). Protocol paths use them; writes go
// through the store inside the service.
func (s *Service) ClientByClientID(ctx context.Context, realmID, clientID string) (store.Client, error) {
	return getCached(s, &s.clients, realmID, clientID, func() (store.Client, error) {
		return s.store.GetClientByClientID(ctx, realmID, clientID)
	})
}

func (s *Service) Client(ctx context.Context, realmID, id string) (store.Client, error) {
	return getCached(s, &s.clientsByID, realmID, id, func() (store.Client, error) {
		return s.store.GetClient(ctx, realmID, id)
	})
}

// AuthenticateClient checks a client's credentials at a protocol endpoint.
// Public clients authenticate by client_id alone; confidential ones need the
// current secret or a rotated one that has not expired. Bearer-only and
// flag checks are the caller's (they produce different wire errors).
//
// With brute-force protection on, the realm's policy also counts wrong
// secrets per client and remote address: a throttled address is refused as
// if the secret were wrong, while the client keeps working from others.
func (s *Service) AuthenticateClient(ctx context.Context, r store.Realm, clientID, secret, ip string) (store.Client, error) {
	c, err := s.ClientByClientID(ctx, r.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, ErrClientNotFound
	}
	if err != nil {
		return store.Client{}, err
	}
	if !c.Enabled {
		return store.Client{}, ErrClientDisabled
	}
	if c.PublicClient {
		return c, nil
	}
	now := s.now()
	key := ClientFailureKey(c.ID, ip)
	locked, recorded, err := s.failureState(ctx, r, key, now)
	if err != nil {
		return store.Client{}, err
	}
	if locked {
		s.metrics.LoginFailure(r.Name, metrics.LoginLocked)
		return c, ErrClientLocked
	}
	// Both compares always run so the answer takes the same time whichever
	// secret (if any) matched.
	cur := s.sealer.SecretMatches(c.Secret, secret, now)
	old := s.sealer.SecretMatches(c.Rotated, secret, now)
	if secret == "" || !(cur || old) {
		s.metrics.LoginFailure(r.Name, metrics.LoginBadClientSecret)
		if err := s.recordFailure(ctx, r, key, ip, now); err != nil {
			return store.Client{}, err
		}
		return c, ErrClientSecret
	}
	s.recordSuccess(ctx, r, key, recorded)
	return c, nil
}

// ClientSecret reveals a confidential client's current secret.
func (s *Service) ClientSecret(ctx context.Context, realmName, id string) (string, error) {
	return s.revealClientSecret(ctx, realmName, id, func(c store.Client) *store.Secret { return c.Secret })
}

// revealClientSecret reveals the secret slot picks of a client; "" when the
// slot is empty.
func (s *Service) revealClientSecret(ctx context.Context, realmName, id string, slot func(store.Client) *store.Secret) (string, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return "", err
	}
	c, err := s.store.GetClient(ctx, realmID, id)
	if err != nil {
		return "", err
	}
	return s.sealer.RevealSecret(slot(c), secretAAD(realmID, c.ID))
}

// RegenerateSecret replaces a confidential client's secret. Without a
// rotation grace the old secret stops working the moment this returns; with
// attribute client.secret.rotation.grace.seconds = N it moves to the rotated
// slot and keeps working for N seconds.
func (s *Service) RegenerateSecret(ctx context.Context, realmName, id string) (string, error) {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return "", err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	secret, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	sealed, err := s.sealer.NewSecret(secret, now, secretAAD(realmID, id))
	if err != nil {
		return "", err
	}
	_, err = s.store.UpdateClient(ctx, realmID, id, func(c *store.Client) error {
		if c.PublicClient {
			return invalid("publicClient", "public clients have no secret")
		}
		c.Rotated = nil
		if grace, _ := strconv.Atoi(c.Attributes[AttrSecretRotationGrace]); grace > 0 && c.Secret != nil {
			old := *c.Secret
			old.ExpiresAt = now.Add(time.Duration(grace) * time.Second)
			c.Rotated = &old
		}
		sec := sealed
		c.Secret = &sec
		return nil
	})
	if err != nil {
		return "", err
	}
	// Addresses throttled for guessing the old secret start afresh with the
	// new one. The secret is already replaced, so a failure here must not
	// hide it from the admin: it only leaves the throttle to expire.
	_ = s.clearClientFailures(ctx, realmID, id)
	return secret, nil
}

// RotatedClientSecret reveals a client's rotated (previous) secret.
func (s *Service) RotatedClientSecret(ctx context.Context, realmName, id string) (string, error) {
	return s.revealClientSecret(ctx, realmName, id, func(c store.Client) *store.Secret { return c.Rotated })
}

// SetClientSecret replaces a confidential client's secret with one chosen by
// an admin (Keycloak allows it in the client representation). The old secret
// stops working at once.
func (s *Service) SetClientSecret(ctx context.Context, realmName, id, secret string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	if len(secret) > 4096 {
		return invalid("secret", "secret must be at most 4096 bytes")
	}
	sealed, err := s.sealer.NewSecret(secret, s.now().UTC(), secretAAD(realmID, id))
	if err != nil {
		return err
	}
	replaced := false
	_, err = s.store.UpdateClient(ctx, realmID, id, func(c *store.Client) error {
		if c.PublicClient {
			return invalid("publicClient", "public clients have no secret")
		}
		// A representation sent back unchanged carries the same secret:
		// keep it (and any rotated secret's grace) as it is.
		replaced = !s.sealer.SecretMatches(c.Secret, secret, s.now())
		if !replaced {
			return nil
		}
		sec := sealed
		c.Secret, c.Rotated = &sec, nil
		return nil
	})
	if err == nil && replaced {
		// As RegenerateSecret: a new secret clears the throttled addresses.
		_ = s.clearClientFailures(ctx, realmID, id)
	}
	return err
}

// InvalidateRotatedSecret ends the rotated secret's grace at once.
func (s *Service) InvalidateRotatedSecret(ctx context.Context, realmName, id string) error {
	realmID, err := s.realmID(ctx, realmName)
	if err != nil {
		return err
	}
	// Drop protocol caches of this realm whatever the outcome.
	defer s.changed(ctx, realmID)
	_, err = s.store.UpdateClient(ctx, realmID, id, func(c *store.Client) error {
		c.Rotated = nil
		return nil
	})
	return err
}

// validRedirectURI checks a registered redirect URI: absolute (or a path
// on this server), without a fragment, whitespace or a script scheme; a
// trailing * is Keycloak's prefix wildcard.
func validRedirectURI(v string) error {
	if v == "*" {
		return nil
	}
	if v == "" || len(v) > 2048 || strings.ContainsAny(v, " \t\r\n#\\") {
		return fmt.Errorf("invalid redirect URI %q", v)
	}
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
		// Relative to the server's public base URL, as Keycloak's own
		// clients register theirs.
		return nil
	}
	u, err := url.Parse(strings.TrimSuffix(v, "*"))
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("invalid redirect URI %q: not an absolute URI", v)
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return fmt.Errorf("invalid redirect URI %q: scheme %s is not allowed", v, u.Scheme)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return fmt.Errorf("invalid redirect URI %q: no host", v)
	}
	return nil
}

// StoredClient returns a client by ID read from the store, not from the
// shared cache Client uses: admin callers change their copy.
func (s *Service) StoredClient(ctx context.Context, realmID, id string) (store.Client, error) {
	return s.store.GetClient(ctx, realmID, id)
}

// Clients lists the realm's clients as q selects, by clientId.
func (s *Service) Clients(ctx context.Context, realmID string, q store.ClientQuery) ([]store.Client, error) {
	return s.store.ListClients(ctx, realmID, q)
}

// allClients lists every client of realm realmID, page by page.
func (s *Service) allClients(ctx context.Context, realmID string) ([]store.Client, error) {
	var out []store.Client
	for first := 0; ; first += store.DefaultMax {
		page, err := s.store.ListClients(ctx, realmID, store.ClientQuery{Page: store.Page{First: first, Max: store.DefaultMax}})
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, page...)
		if len(page) < store.DefaultMax {
			return out, nil
		}
	}
}
