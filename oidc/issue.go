package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// offlineMaxAge bounds an offline session when the realm sets no
// offlineSessionMaxLifespan (Keycloak's is then unlimited).
const offlineMaxAge = 365 * 24 * time.Hour

// grant is what a grant handler established, handed to the minter.
type grant struct {
	issuer  string
	client  store.Client
	user    store.User
	scopes  []string
	session *store.Session // nil when no refresh token is issued
	// refresh is the new opaque refresh token (with its record) when one is
	// issued.
	refresh       string
	refreshRecord store.RefreshToken
	// jtiPrefix mimics Keycloak 26's jti kinds (onrtro:, onrtrt:, trrtcc:).
	jtiPrefix string
	// audience, when set, replaces the role-derived aud (token exchange).
	audience []string
	// notAfter, when set, caps every token's expiry (token exchange: never
	// outlive the subject token).
	notAfter time.Time
	// sid links a token to an existing session it does not refresh.
	sid string
	// apiKeyID binds the token to the API key it was exchanged for.
	apiKeyID string
	// nonce is the authorization request's, echoed in the ID token.
	nonce string
	// plan is the client-scope plan the scopes were granted under; nil
	// makes mint derive it from scopes.
	plan *realms.TokenPlan
	// jti is the minted access token's ID (the login event's token_id).
	jti string
	// rpt, when set, makes the access token an RPT of a resource server.
	rpt *rptClaims
}

// rptClaims is what makes an access token an RPT: the resource server it
// is for (added to aud) and the permissions it was granted.
type rptClaims struct {
	audience      string
	authorization rptAuthorization
}

func (g *grant) scope() string { return strings.Join(g.scopes, " ") }

func (g *grant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

// minter turns a grant into signed tokens for one realm.
type minter struct {
	svc    *realms.Service
	realm  store.Realm
	signer *Signer
}

// planFor returns g's client-scope plan, deriving it from g's scopes when
// the grant did not choose one.
func (m *minter) planFor(ctx context.Context, g *grant) (*realms.TokenPlan, error) {
	if g.plan != nil {
		return g.plan, nil
	}
	opt, err := m.svc.OptionalIn(ctx, m.realm, g.client, g.scope())
	if err != nil {
		return nil, err
	}
	return m.svc.TokenPlan(ctx, m.realm, g.client, opt)
}

// mapperInput is what g's mappers read under plan.
func (m *minter) mapperInput(ctx context.Context, g *grant, plan *realms.TokenPlan) (realms.MapperInput, error) {
	return mapperInput(ctx, m.svc, m.realm.ID, g.user, g.client, plan)
}

func mapperInput(ctx context.Context, svc *realms.Service, realmID string, u store.User, c store.Client, plan *realms.TokenPlan) (realms.MapperInput, error) {
	roles, err := svc.ResolveRoles(ctx, realmID, u)
	if err != nil {
		return realms.MapperInput{}, err
	}
	if roles, err = svc.TokenRoles(ctx, realmID, roles, plan); err != nil {
		return realms.MapperInput{}, err
	}
	in := realms.MapperInput{User: u, Client: c, Roles: roles}
	if plan.Groups {
		if in.Groups, err = svc.TokenGroupPaths(ctx, realmID, u.ID); err != nil {
			return realms.MapperInput{}, err
		}
	}
	return in, nil
}

func (m *minter) accessLifespan(c store.Client) time.Duration {
	if v, err := strconv.Atoi(c.Attributes[realms.AttrAccessTokenLifespan]); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return time.Duration(m.realm.AccessTokenLifespan) * time.Second
}

// newSession starts a session (token family) for g at now, from address
// ip, with its first refresh token; the caller stores both with one durable
// commit.
func (m *minter) newSession(g *grant, ip string, now time.Time) error {
	maxAge := clientSessionBound(m.realm.SSOSessionMaxLifespan, m.realm.ClientSessionMaxLifespan)
	if g.has(realms.OfflineAccess) {
		maxAge = offlineMaxAge
		if m.realm.OfflineSessionMaxLifespanEnabled {
			maxAge = time.Duration(m.realm.OfflineSessionMaxLifespan) * time.Second
		}
	}
	g.session = &store.Session{
		ID: realms.NewID(), ClientID: g.client.ID, UserID: g.user.ID, Scope: g.scope(),
		AuthTime: now, LastRefresh: now, ExpiresAt: now.Add(maxAge), IPAddress: ip,
	}
	return m.nextRefresh(g, now)
}

// clientSessionBound is the SSO session's limit (seconds) narrowed by the
// realm's client-session limit when that is set: every Gatehouse session
// belongs to one client, so it is both the user and the client session.
func clientSessionBound(sso, client int) time.Duration {
	if client > 0 && client < sso {
		sso = client
	}
	return time.Duration(sso) * time.Second
}

// nextRefresh mints the session's next refresh token into g.
func (m *minter) nextRefresh(g *grant, now time.Time) error {
	tok, h, err := newOpaqueToken(now)
	if err != nil {
		return err
	}
	idle := clientSessionBound(m.realm.SSOSessionIdleTimeout, m.realm.ClientSessionIdleTimeout)
	if g.has(realms.OfflineAccess) {
		idle = time.Duration(m.realm.OfflineSessionIdleTimeout) * time.Second
	}
	exp := now.Add(idle)
	if exp.After(g.session.ExpiresAt) {
		exp = g.session.ExpiresAt
	}
	g.refresh = tok
	g.refreshRecord = store.RefreshToken{
		Hash: h, SessionID: g.session.ID, ClientID: g.client.ID, UserID: g.user.ID,
		Scope: g.scope(), IssuedAt: now, ExpiresAt: exp,
	}
	return nil
}

// Refresh tokens are 40 random-looking bytes, base64url: an 8-byte
// time-ordered prefix (milliseconds since the epoch, then 16 random bits)
// and 32 random bytes, the 256-bit secret. The prefix is public and goes
// into the store key in clear so that new tokens sort after old ones: a
// batch of rotations then writes to the same few pages at the right edge of
// the token tree instead of one random page each.
const (
	refreshPrefixBytes = 8
	refreshTokenBytes  = refreshPrefixBytes + 32
)

// newOpaqueToken returns a new refresh token and the key it is stored under.
func newOpaqueToken(now time.Time) (token, key string, err error) {
	var b [refreshTokenBytes]byte
	if _, err := rand.Read(b[refreshPrefixBytes-2:]); err != nil {
		return "", "", err
	}
	ms := uint64(now.UnixMilli())
	for i := range refreshPrefixBytes - 2 {
		b[i] = byte(ms >> (8 * (refreshPrefixBytes - 3 - i)))
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	key, _ = hashToken(token)
	return token, key, nil
}

// hashToken is the store key of a presented refresh token: the hex
// time-ordered prefix and the hex SHA-256 of the whole token. ok is false
// for anything that is not a token newOpaqueToken makes, which no stored
// token matches.
func hashToken(token string) (key string, ok bool) {
	var b [refreshTokenBytes]byte
	if len(token) != base64.RawURLEncoding.EncodedLen(refreshTokenBytes) {
		return "", false
	}
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(token)); err != nil || n != refreshTokenBytes {
		return "", false
	}
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(b[:refreshPrefixBytes]) + hex.EncodeToString(h[:]), true
}

// mint signs the access token (and ID token when openid was granted and the
// grant is a user login) and fills the fosite response in Keycloak's shape.
func (m *minter) mint(ctx context.Context, g *grant, resp fosite.AccessResponder, now time.Time, withIDToken bool) error {
	plan, err := m.planFor(ctx, g)
	if err != nil {
		return err
	}
	in, err := m.mapperInput(ctx, g, plan)
	if err != nil {
		return err
	}
	mapped, err := plan.Run(in, realms.AccessToken)
	if err != nil {
		return err
	}
	exp := now.Add(m.accessLifespan(g.client))
	if g.session != nil && exp.After(g.session.ExpiresAt) {
		exp = g.session.ExpiresAt
	}
	if !g.notAfter.IsZero() && exp.After(g.notAfter) {
		exp = g.notAfter
	}
	realmAccess, resourceAccess := roleClaims(mapped)
	ac := accessClaims{
		Exp: exp.Unix(), Iat: now.Unix(), Jti: g.jtiPrefix + realms.NewID(), Iss: g.issuer,
		Aud: audience(mapped.Aud), Sub: g.user.ID, Typ: "Bearer", Azp: g.client.ClientID,
		AllowedOrigins: mapped.AllowedOrigins, RealmAccess: realmAccess, ResourceAccess: resourceAccess, Scope: g.scope(),
	}
	if mapped.ACR {
		ac.Acr = "1"
	}
	if g.audience != nil {
		ac.Aud = audience(g.audience)
	}
	if g.rpt != nil {
		ac.Authorization = &g.rpt.authorization
		if !slices.Contains(ac.Aud, g.rpt.audience) {
			ac.Aud = append(slices.Clip(ac.Aud), g.rpt.audience)
		}
	}
	g.jti = ac.Jti
	ac.Sid = g.sid
	ac.APIKeyID = g.apiKeyID
	if g.session != nil {
		ac.Sid = g.session.ID
	}
	other := mapped.Other
	if g.user.ServiceAccountClientID != "" {
		// Keycloak's service-account tokens name their client.
		other = append(slices.Clip(other), realms.Claim{Name: "client_id", Value: g.client.ClientID})
	}
	payload, err := withClaims(&ac, other)
	if err != nil {
		return err
	}
	at, err := m.signer.SignJSON(payload, "JWT")
	if err != nil {
		return err
	}
	resp.SetAccessToken(at)
	resp.SetTokenType("Bearer")
	resp.SetExpiresIn(exp.Sub(now))
	refreshIn := int64(0)
	if g.refresh != "" {
		resp.SetExtra("refresh_token", g.refresh)
		if !g.has(realms.OfflineAccess) {
			// Keycloak reports 0 for offline tokens.
			refreshIn = int64(g.refreshRecord.ExpiresAt.Sub(now).Seconds())
		}
	}
	resp.SetExtra("refresh_expires_in", refreshIn)
	resp.SetExtra("not-before-policy", m.realm.NotBefore)
	if g.session != nil {
		resp.SetExtra("session_state", g.session.ID)
	}
	resp.SetExtra("scope", g.scope())
	if withIDToken && g.has("openid") {
		idMapped, err := plan.Run(in, realms.IDToken)
		if err != nil {
			return err
		}
		idt, err := m.idToken(g, idMapped, at, exp, now)
		if err != nil {
			return err
		}
		resp.SetExtra("id_token", idt)
	}
	return nil
}

func (m *minter) idToken(g *grant, mapped *realms.Claims, accessToken string, exp, now time.Time) (string, error) {
	ic := idClaims{
		Exp: exp.Unix(), Iat: now.Unix(), Jti: realms.NewID(), Iss: g.issuer, Aud: g.client.ClientID,
		Sub: g.user.ID, Typ: "ID", Azp: g.client.ClientID,
		AtHash: atHash(accessToken, m.signer.keys.Signing.Algorithm),
	}
	if mapped.ACR {
		ic.Acr = "1"
	}
	ic.Nonce = g.nonce
	if g.session != nil {
		ic.Sid = g.session.ID
		if mapped.AuthTime {
			ic.AuthTime = g.session.AuthTime.Unix()
		}
	}
	payload, err := withClaims(&ic, mapped.Other)
	if err != nil {
		return "", err
	}
	return m.signer.SignJSON(payload, "JWT")
}

// atHash is OIDC Core §3.1.3.6: the left half of the hash the signing
// algorithm uses, base64url. Ed25519 signs with SHA-512.
func atHash(token, alg string) string {
	var h hash.Hash
	if alg == "EdDSA" {
		h = sha512.New()
	} else {
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
