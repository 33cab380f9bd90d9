package oidc

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// realmProvider is one realm's fosite provider with the handlers, signer and
// settings bound to that realm. It is immutable: when the realm or its keys
// change, a new one is built (cheaply), so no request ever sees handlers
// of another realm or a half-updated configuration.
type realmProvider struct {
	state    *realms.RealmState
	realm    store.Realm
	svc      *realms.Service
	sessions *realms.SessionService
	knox     *realms.KnoxService
	now      func() time.Time
	signer   *Signer
	minter   *minter
	oauth2   *fosite.Fosite
	// verified is shared by every realm's providers (see tokencache.go).
	verified *verifiedTokens
}

func (p *providers) newRealmProvider(st *realms.RealmState) *realmProvider {
	rp := &realmProvider{state: st, realm: st.Realm, svc: p.svc, sessions: p.sessions, knox: p.knox, now: p.svc.Now,
		signer: NewSigner(st.Keys), verified: p.verified}
	svc := p.svc
	rp.minter = &minter{svc: svc, realm: st.Realm, signer: rp.signer}

	// A fresh Config per realm: fosite de-duplicates handlers by Go type, so
	// sharing one would silently bind every realm to the first realm's
	// handlers. Only the token endpoint's request and response calls use it,
	// and they read nothing but these fields (the grant handlers apply the
	// realm's lifespans and scopes themselves).
	cfg := &fosite.Config{
		ClientAuthenticationStrategy: preAuthenticated,
		SendDebugMessagesToClients:   false,
	}
	cfg.TokenEndpointHandlers = fosite.TokenEndpointHandlers{
		passwordGrant{grantHandler{grantPassword, rp}},
		clientCredentialsGrant{grantHandler{grantClientCredentials, rp}},
		refreshGrant{grantHandler{grantRefreshToken, rp}},
		tokenExchangeGrant{grantHandler{grantTokenExchange, rp}},
		authorizationCodeGrant{grantHandler{grantAuthorizationCode, rp}},
		deviceCodeGrant{grantHandler{grantDeviceCode, rp}},
	}
	rp.oauth2 = &fosite.Fosite{Config: cfg}
	return rp
}

// supportedGrantTypes are the grant types the token endpoint accepts; others
// get unsupported_grant_type before client authentication, as in Keycloak.
var supportedGrantTypes = map[string]bool{
	grantPassword: true, grantClientCredentials: true, grantRefreshToken: true, grantTokenExchange: true,
	grantAuthorizationCode: true, grantDeviceCode: true, grantUMATicket: true,
}

// grantTypesSupported is the discovery list, in a stable order.
var grantTypesSupported = []string{grantAuthorizationCode, grantPassword, grantClientCredentials, grantRefreshToken, grantTokenExchange, grantDeviceCode, grantUMATicket}

// providers caches one realmProvider per realm, rebuilt whenever the
// realm service hands out a new realm snapshot.
type providers struct {
	svc      *realms.Service
	sessions *realms.SessionService
	knox     *realms.KnoxService
	mu       sync.RWMutex
	m        map[string]*realmProvider
	verified *verifiedTokens
}

func newProviders(svc *realms.Service, sessions *realms.SessionService, knox *realms.KnoxService) *providers {
	p := &providers{svc: svc, sessions: sessions, knox: knox, m: map[string]*realmProvider{},
		verified: newVerifiedTokens(defaultVerifiedTokens, svc.Now)}
	svc.OnRealmChange(func(name string) {
		p.mu.Lock()
		delete(p.m, name)
		p.mu.Unlock()
	})
	return p
}

// get returns the provider of st's realm.
func (p *providers) get(st *realms.RealmState) *realmProvider {
	name := st.Realm.Name
	p.mu.RLock()
	rp := p.m[name]
	p.mu.RUnlock()
	if rp != nil && rp.state == st {
		return rp
	}
	rp = p.newRealmProvider(st)
	p.mu.Lock()
	p.m[name] = rp
	p.mu.Unlock()
	return rp
}

// realm resolves a realm by name into its current provider.
func (p *providers) realm(ctx context.Context, name string) (*realmProvider, error) {
	st, err := p.svc.Realm(ctx, name)
	if err != nil {
		return nil, err
	}
	return p.get(st), nil
}
