package realms

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// Keycloak's realm defaults (RealmManager.setupRealmDefaults).
const (
	DefaultAccessTokenLifespan   = 300
	DefaultSSOSessionIdleTimeout = 1800
	DefaultSSOSessionMaxLifespan = 36000
	DefaultSignatureAlgorithm    = "RS256"

	DefaultOfflineSessionIdleTimeout = 2592000
	DefaultOfflineSessionMaxLifespan = 5184000
	DefaultSSLRequired               = "external"
)

// The client every realm carries whose roles grant scoped admin rights.
const RealmManagementClientID = "realm-management"

// RealmManagementRoles are the roles of the realm-management client.
// realm-admin is a composite of all the others.
var RealmManagementRoles = []string{
	"manage-realm", "view-realm",
	"manage-clients", "view-clients", "query-clients", "create-client",
	"manage-users", "view-users", "query-users", "query-groups",
	"manage-events", "view-events",
	"manage-authorization", "view-authorization",
}

// Master realm roles.
const (
	MasterRealm     = "master"
	AdminRole       = "admin"
	CreateRealmRole = "create-realm"
	OfflineAccess   = "offline_access"
)

// ApplyRealmDefaults fills zero settings with Keycloak's defaults.
func ApplyRealmDefaults(r *store.Realm) {
	if r.AccessTokenLifespan <= 0 {
		r.AccessTokenLifespan = DefaultAccessTokenLifespan
	}
	if r.SSOSessionIdleTimeout <= 0 {
		r.SSOSessionIdleTimeout = DefaultSSOSessionIdleTimeout
	}
	if r.SSOSessionMaxLifespan <= 0 {
		r.SSOSessionMaxLifespan = DefaultSSOSessionMaxLifespan
	}
	if r.DefaultSignatureAlgorithm == "" {
		r.DefaultSignatureAlgorithm = DefaultSignatureAlgorithm
	}
	if r.SSLRequired == "" {
		r.SSLRequired = DefaultSSLRequired
	}
	for _, d := range []struct {
		v   *int
		def int
	}{
		{&r.OfflineSessionIdleTimeout, DefaultOfflineSessionIdleTimeout},
		{&r.OfflineSessionMaxLifespan, DefaultOfflineSessionMaxLifespan},
		{&r.AccessCodeLifespan, 60},
		{&r.AccessCodeLifespanUserAction, 300},
		{&r.AccessCodeLifespanLogin, 1800},
		{&r.ActionTokenGeneratedByAdminLifespan, 43200},
		{&r.ActionTokenGeneratedByUserLifespan, 300},
		{&r.APIKeyDefaultLifespanDays, DefaultAPIKeyLifespanDays},
		{&r.WorkloadTokenLifespan, DefaultWorkloadTokenLifespan},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	bf := &r.BruteForce
	if bf.FailureFactor <= 0 {
		bf.FailureFactor = 30
	}
	if bf.WaitIncrementSeconds <= 0 {
		bf.WaitIncrementSeconds = 60
	}
	if bf.MaxFailureWaitSeconds <= 0 {
		bf.MaxFailureWaitSeconds = 900
	}
	if bf.MaxDeltaTimeSeconds <= 0 {
		bf.MaxDeltaTimeSeconds = 43200
	}
	if bf.QuickLoginCheckMilliSeconds <= 0 {
		bf.QuickLoginCheckMilliSeconds = 1000
	}
	if bf.MinimumQuickLoginWaitSeconds <= 0 {
		bf.MinimumQuickLoginWaitSeconds = 60
	}
}

// ValidateRealm checks a realm's settings.
func ValidateRealm(r *store.Realm) error {
	if err := validateRealmName(r.Name); err != nil {
		return err
	}
	if !SupportedAlgorithm(r.DefaultSignatureAlgorithm) {
		return invalid("defaultSignatureAlgorithm", "unsupported signature algorithm %q (use RS256, ES256 or EdDSA)", r.DefaultSignatureAlgorithm)
	}
	for field, v := range map[string]int{
		"accessTokenLifespan":                 r.AccessTokenLifespan,
		"ssoSessionIdleTimeout":               r.SSOSessionIdleTimeout,
		"ssoSessionMaxLifespan":               r.SSOSessionMaxLifespan,
		"offlineSessionIdleTimeout":           r.OfflineSessionIdleTimeout,
		"offlineSessionMaxLifespan":           r.OfflineSessionMaxLifespan,
		"accessCodeLifespan":                  r.AccessCodeLifespan,
		"accessCodeLifespanUserAction":        r.AccessCodeLifespanUserAction,
		"accessCodeLifespanLogin":             r.AccessCodeLifespanLogin,
		"actionTokenGeneratedByAdminLifespan": r.ActionTokenGeneratedByAdminLifespan,
		"actionTokenGeneratedByUserLifespan":  r.ActionTokenGeneratedByUserLifespan,
	} {
		if v <= 0 || v > 10*365*24*3600 {
			return invalid(field, "%s must be between 1 and %d seconds", field, 10*365*24*3600)
		}
	}
	for field, v := range map[string]int{
		"clientSessionIdleTimeout": r.ClientSessionIdleTimeout,
		"clientSessionMaxLifespan": r.ClientSessionMaxLifespan,
	} {
		if v < 0 || v > 10*365*24*3600 {
			return invalid(field, "%s must be between 0 and %d seconds", field, 10*365*24*3600)
		}
	}
	switch r.SSLRequired {
	case "all", "external", "none":
	default:
		return invalid("sslRequired", "sslRequired must be all, external or none")
	}
	if err := validateEventsConfig(r.Events); err != nil {
		return err
	}
	if r.RefreshTokenReuseGraceSeconds < 0 || r.RefreshTokenReuseGraceSeconds > 300 {
		return invalid("refreshTokenReuseGraceSeconds", "must be between 0 and 300")
	}
	if r.RefreshTokenMaxReuse < 0 {
		return invalid("refreshTokenMaxReuse", "must not be negative")
	}
	return validateCredentialSettings(r)
}

// CreateRealm creates a realm with Keycloak's defaults for unset settings, an
// active signing key for its algorithm, the realm-management client with its
// roles, Keycloak's other default clients (see defaultClients), the
// offline_access role and the default-roles-<realm> composite, all in one
// store transaction.
func (s *Service) CreateRealm(ctx context.Context, r store.Realm) (store.Realm, error) {
	return s.createRealmWith(ctx, r, nil)
}

// createRealmWith is CreateRealm whose extra, when set, adds records (users)
// to the new realm's contents before the one store transaction: they
// commit with the realm or not at all.
func (s *Service) createRealmWith(ctx context.Context, r store.Realm, extra func(store.Realm, *store.RealmContents) error) (store.Realm, error) {
	ApplyRealmDefaults(&r)
	// Keycloak's new realms carry this listener; an admin may remove it.
	if r.Events.Listeners == nil {
		r.Events.Listeners = []string{EventListenerLogging}
	}
	if err := ValidateRealm(&r); err != nil {
		return store.Realm{}, err
	}
	now := s.now().UTC()
	r.ID = NewID()
	r.CreatedAt = now
	r.Version = 1

	// Slow work (key generation) happens before any write.
	key, err := GenerateSigningKey(r.DefaultSignatureAlgorithm, s.sealer, now)
	if err != nil {
		return store.Realm{}, err
	}
	offline := store.Role{ID: NewID(), Name: OfflineAccess, Description: "${role_offline-access}"}
	uma := store.Role{ID: NewID(), Name: "uma_authorization", Description: "${role_uma_authorization}"}
	def := store.Role{ID: NewID(), Name: "default-roles-" + strings.ToLower(r.Name), Description: "${role_default-roles}",
		Composites: []string{offline.ID, uma.ID}}
	r.DefaultRoleID = def.ID
	rm := store.Client{
		ID: NewID(), ClientID: RealmManagementClientID, Name: "${client_realm-management}",
		Enabled: true, BearerOnly: true, CreatedAt: now, Attributes: map[string]string{attrRealmClient: "true"},
	}
	adminRoles, adminIDs := newAdminRoles(r.Name, rm.ID)
	r.AdminRoleIDs = adminIDs
	scopes, defScopes, optScopes := builtinClientScopes(offline.ID)
	r.DefaultScopeIDs, r.OptionalScopeIDs = defScopes, optScopes
	rm.ScopesAssigned, rm.DefaultScopeIDs, rm.OptionalScopeIDs = true, defScopes, optScopes

	clients, clientRoles := defaultClients(r.Name, now)
	for i := range clients {
		clients[i].ScopesAssigned, clients[i].DefaultScopeIDs, clients[i].OptionalScopeIDs = true, defScopes, optScopes
	}
	init := store.RealmContents{
		Keys:         []store.SigningKey{key},
		Roles:        append(append([]store.Role{offline, uma, def}, adminRoles...), clientRoles...),
		ClientScopes: scopes,
		Clients:      append([]store.Client{rm}, clients...),
	}
	if extra != nil {
		if err := extra(r, &init); err != nil {
			return store.Realm{}, err
		}
	}
	// One transaction: a failed create leaves nothing half-made behind.
	if err := s.store.CreateRealmWith(ctx, r, init); err != nil {
		return store.Realm{}, err
	}
	s.invalidate(r.Name)
	s.changed(ctx, r.ID)
	return r, nil
}

// UpdateRealm applies fn to the realm named name, re-validates it and
// re-keys the realm when its signature algorithm changed, in one store
// transaction: the realm never has an algorithm its active key does not
// fit.
func (s *Service) UpdateRealm(ctx context.Context, name string, fn func(*store.Realm) error) (store.Realm, error) {
	st, err := s.Realm(ctx, name)
	if err != nil {
		return store.Realm{}, err
	}
	validate := func(r *store.Realm) error {
		wasMaster := r.Name == MasterRealm
		if err := fn(r); err != nil {
			return err
		}
		// Master holds the admins of every realm: renamed or disabled, no
		// admin could sign in to repair it.
		if wasMaster && r.Name != MasterRealm {
			return &StateError{Message: "The master realm cannot be renamed"}
		}
		if wasMaster && !r.Enabled {
			return &StateError{Message: "The master realm cannot be disabled"}
		}
		ApplyRealmDefaults(r)
		return ValidateRealm(r)
	}
	var updated store.Realm
	for attempt := 0; ; attempt++ {
		// Key generation is slow work, done before the transaction: a dry
		// run of fn on the stored realm says which algorithm it asks for.
		key, err := s.keyForUpdate(ctx, st.Realm.ID, validate)
		if err != nil {
			return store.Realm{}, err
		}
		updated, err = s.store.UpdateRealmRotatingKey(ctx, st.Realm.ID, func(r *store.Realm) (*store.SigningKey, error) {
			alg := r.DefaultSignatureAlgorithm
			if err := validate(r); err != nil || r.DefaultSignatureAlgorithm == alg {
				return nil, err
			}
			if key == nil || key.Algorithm != r.DefaultSignatureAlgorithm {
				// Another write changed the algorithm since the dry run.
				return nil, errRekeyRace
			}
			return key, nil
		})
		if !errors.Is(err, errRekeyRace) || attempt == 2 {
			if err != nil {
				return store.Realm{}, notFoundAs(err, ErrRealmNotFound)
			}
			break
		}
	}
	s.invalidate(name, updated.Name)
	s.changed(ctx, updated.ID)
	return updated, nil
}

// errRekeyRace: the realm's algorithm changed between UpdateRealm's dry run
// and its transaction.
var errRekeyRace = &StateError{Message: "The realm changed during the update; try again"}

// keyForUpdate generates the key an update of realm realmID by fn needs:
// one for the new algorithm when fn changes it, else none. fn runs on a
// copy; its errors are the transaction's to report.
func (s *Service) keyForUpdate(ctx context.Context, realmID string, fn func(*store.Realm) error) (*store.SigningKey, error) {
	r, err := s.store.GetRealmByID(ctx, realmID)
	if err != nil {
		return nil, notFoundAs(err, ErrRealmNotFound)
	}
	alg := r.DefaultSignatureAlgorithm
	if fn(&r) != nil || r.DefaultSignatureAlgorithm == alg {
		return nil, nil
	}
	k, err := GenerateSigningKey(r.DefaultSignatureAlgorithm, s.sealer, s.now().UTC())
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// DeleteRealm removes a realm and everything in it.
func (s *Service) DeleteRealm(ctx context.Context, name string) error {
	r, err := s.store.GetRealm(ctx, name)
	if err != nil {
		return notFoundAs(err, ErrRealmNotFound)
	}
	if r.Name == MasterRealm {
		return &StateError{Message: "The master realm cannot be deleted"}
	}
	defer s.invalidate(name)
	defer s.changed(ctx, r.ID)
	return notFoundAs(s.store.DeleteRealm(ctx, r.ID), ErrRealmNotFound)
}

// RotateKey generates a new active key with the realm's algorithm; earlier
// keys become passive (they still verify tokens they signed), in the same
// transaction.
func (s *Service) RotateKey(ctx context.Context, name string) (store.SigningKey, error) {
	st, err := s.Realm(ctx, name)
	if err != nil {
		return store.SigningKey{}, err
	}
	k, err := GenerateSigningKey(st.Realm.DefaultSignatureAlgorithm, s.sealer, s.now().UTC())
	if err != nil {
		return store.SigningKey{}, err
	}
	defer s.invalidate(name)
	defer s.changed(ctx, st.Realm.ID)
	return k, s.store.RotateKey(ctx, st.Realm.ID, k)
}

// Realms lists every realm, by name.
func (s *Service) Realms(ctx context.Context) ([]store.Realm, error) {
	return s.store.ListRealms(ctx)
}
