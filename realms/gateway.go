package realms

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"regexp"

	"github.com/gatehouse/gatehouse/store"
)

// Knox's KNOXTOKEN service defaults.
const (
	DefaultKnoxTTL           = "PT30S"
	DefaultKnoxMaxLifetime   = "P7D"
	DefaultKnoxRenewInterval = "P1D"
	DefaultKnoxLimitPerUser  = 10
	LimitReturnError         = "RETURN_ERROR"
	LimitRemoveOldest        = "REMOVE_OLDEST"
	AuthBasic                = "basic"
	AuthBearer               = "bearer"
)

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ApplyTopologyDefaults fills unset Knox settings.
func ApplyTopologyDefaults(t *store.Topology) {
	if t.TTL == "" {
		t.TTL = DefaultKnoxTTL
	}
	if t.MaxLifetime == "" {
		t.MaxLifetime = DefaultKnoxMaxLifetime
	}
	if t.RenewInterval == "" {
		t.RenewInterval = DefaultKnoxRenewInterval
	}
	if t.LimitAction == "" {
		t.LimitAction = LimitReturnError
	}
	if t.Audiences == nil {
		t.Audiences = []string{}
	}
	if t.Renewers == nil {
		t.Renewers = []string{}
	}
	if t.ClientData == nil {
		t.ClientData = map[string]string{}
	}
}

// ValidateTopology checks a topology and binds it to the realm named
// t.Realm by that realm's ID (RealmID), which the topology then keeps
// whatever the realm is renamed to. It binds the renewers' names to the
// IDs of the realm users who hold them now (RenewerIDs): renewal rights
// then follow those users, not whoever is given the name later.
func (k *KnoxService) ValidateTopology(ctx context.Context, t *store.Topology) error {
	if !aliasRE.MatchString(t.Name) {
		return invalid("name", "topology names may contain only letters, digits, '.', '_' and '-'")
	}
	rs, err := k.svc.Realm(ctx, t.Realm)
	if errors.Is(err, ErrRealmNotFound) {
		return invalid("realm", "realm %q does not exist", t.Realm)
	}
	if err != nil {
		return err
	}
	t.RealmID = rs.Realm.ID
	t.RenewerIDs = make([]string, len(t.Renewers))
	for i, name := range t.Renewers {
		if t.RenewerIDs[i], err = k.OwnerID(ctx, rs.Realm.ID, name); err != nil {
			return err
		}
	}
	if t.Authentication != AuthBasic && t.Authentication != AuthBearer {
		return invalid("authentication", "must be basic or bearer")
	}
	for field, v := range map[string]string{"ttl": t.TTL, "maxLifetime": t.MaxLifetime, "renewInterval": t.RenewInterval} {
		if _, err := ParseISODuration(v); err != nil {
			return invalid(field, "%v", err)
		}
	}
	if t.LimitAction != LimitReturnError && t.LimitAction != LimitRemoveOldest {
		return invalid("limitAction", "must be RETURN_ERROR or REMOVE_OLDEST")
	}
	if t.LimitPerUser < -1 {
		return invalid("limitPerUser", "must be -1 (no limit) or more")
	}
	if t.TargetURL != "" {
		if u, err := url.Parse(t.TargetURL); err != nil || u.Scheme == "" || u.Host == "" {
			return invalid("targetUrl", "must be an absolute URL")
		}
	}
	return nil
}

// ValidateIdentityProvider checks an OIDC identity provider. Gatehouse only
// trusts issuers whose signatures it verifies, so validateSignature=false is
// refused rather than silently ignored.
func ValidateIdentityProvider(p *store.IdentityProvider) error {
	if !aliasRE.MatchString(p.Alias) {
		return invalid("alias", "alias may contain only letters, digits, '.', '_' and '-'")
	}
	if p.ProviderID == "" {
		p.ProviderID = "oidc"
	}
	if p.ProviderID != "oidc" && p.ProviderID != "keycloak-oidc" {
		return invalid("providerId", "only oidc identity providers are supported")
	}
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	iss := p.Config["issuer"]
	if u, err := url.Parse(iss); iss == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid("config.issuer", "issuer must be an absolute http(s) URL")
	}
	if j := p.Config["jwksUrl"]; j != "" {
		if u, err := url.Parse(j); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("config.jwksUrl", "jwksUrl must be an absolute http(s) URL")
		}
	}
	if p.Config["validateSignature"] == "false" {
		return invalid("config.validateSignature", "tokens of an identity provider must be signature-checked")
	}
	if v := p.Config[IDPAllowAdminMapping]; v != "" && v != "true" && v != "false" {
		return invalid("config."+IDPAllowAdminMapping, "must be true or false")
	}
	if len(p.Config[IDPPrincipalClaim]) > 255 {
		return invalid("config."+IDPPrincipalClaim, "at most 255 characters")
	}
	if p.Config["useJwksUrl"] == "" {
		p.Config["useJwksUrl"] = "true"
	}
	p.Config["validateSignature"] = "true"
	return nil
}

// Digest is the keyed HMAC-SHA256 of a value (passcodes), under the pepper
// derived from the master key.
func (s *Sealer) Digest(v string) []byte { return s.digest(v) }

// DigestMatches compares a value with a stored digest in constant time.
func (s *Sealer) DigestMatches(digest []byte, v string) bool {
	return len(digest) > 0 && subtle.ConstantTimeCompare(s.digest(v), digest) == 1
}

// Topology returns the gateway topology with that name, with the current
// name of its realm ("" when the realm is gone).
func (k *KnoxService) Topology(ctx context.Context, name string) (store.Topology, error) {
	t, err := k.svc.store.GetTopology(ctx, name)
	if err != nil {
		return t, err
	}
	return t, k.nameRealm(ctx, &t)
}

// Topologies returns every gateway topology, ordered by name, each with the
// current name of its realm.
func (k *KnoxService) Topologies(ctx context.Context) ([]store.Topology, error) {
	ts, err := k.svc.store.ListTopologies(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if err := k.nameRealm(ctx, &ts[i]); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// nameRealm fills t.Realm with its realm's current name.
func (k *KnoxService) nameRealm(ctx context.Context, t *store.Topology) error {
	t.Realm = ""
	if t.RealmID == "" {
		return nil
	}
	r, err := k.svc.store.GetRealmByID(ctx, t.RealmID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	t.Realm = r.Name
	return nil
}

// TopologyRealm returns the topology named name and the current snapshot
// of the realm it is bound to. Errors: store.ErrNotFound for no such
// topology, ErrRealmNotFound when its realm is gone, or the store's.
func (k *KnoxService) TopologyRealm(ctx context.Context, name string) (store.Topology, *RealmState, error) {
	t, err := k.svc.store.GetTopology(ctx, name)
	if err != nil {
		return t, nil, err
	}
	if t.RealmID == "" {
		return t, nil, ErrRealmNotFound
	}
	st, err := k.svc.RealmByID(ctx, t.RealmID)
	if err != nil {
		return t, nil, err
	}
	t.Realm = st.Realm.Name
	return t, st, nil
}

// PutTopology creates or replaces a topology checked by ValidateTopology,
// and reports whether it was created.
func (k *KnoxService) PutTopology(ctx context.Context, t store.Topology) (created bool, err error) {
	old, existed := k.svc.store.GetTopology(ctx, t.Name)
	if err := k.svc.store.PutTopology(ctx, t); err != nil {
		return false, err
	}
	k.topologyChanged(ctx, t.RealmID)
	if existed == nil && old.RealmID != t.RealmID {
		k.topologyChanged(ctx, old.RealmID)
	}
	return existed != nil, nil
}

// DeleteTopology removes a topology; store.ErrNotFound when there is none.
func (k *KnoxService) DeleteTopology(ctx context.Context, name string) error {
	t, err := k.svc.store.GetTopology(ctx, name)
	if err != nil {
		return err
	}
	if err := k.svc.store.DeleteTopology(ctx, name); err != nil {
		return err
	}
	k.topologyChanged(ctx, t.RealmID)
	return nil
}

// topologyChanged moves the write generation of the realm a topology is
// bound to, when it is bound.
func (k *KnoxService) topologyChanged(ctx context.Context, realmID string) {
	if realmID != "" {
		k.svc.changed(ctx, realmID)
	}
}
