package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// trustedToken is a JWT from a realm of this server or from one of a realm's
// identity providers, verified and currently valid.
type trustedToken struct {
	issuer string
	claims map[string]any
	// username is preferred_username, else sub.
	username string
	subject  string
	exp      time.Time
	scope    string
	aud      []string
	azp      string
	sid      string
	// realm is set when a realm of this server issued the token.
	realm *realmProvider
	// user is the realm user an own-realm access token speaks for.
	user *store.User
	// idp is the identity provider that vouched for it (nil for own tokens).
	idp *store.IdentityProvider
}

// foreignAlgs are the algorithms accepted from other issuers: asymmetric
// only, so a public key can never double as an HMAC secret.
var foreignAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// unverifiedClaims reads a JWT's payload without checking anything.
func unverifiedClaims(token string) (map[string]any, bool) {
	if len(token) > maxTokenBytes {
		return nil, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	return m, true
}

func claimString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func claimTime(m map[string]any, k string) (time.Time, bool) {
	switch v := m[k].(type) {
	case float64:
		return time.Unix(int64(v), 0), true
	case json.Number:
		n, err := v.Int64()
		return time.Unix(n, 0), err == nil
	}
	return time.Time{}, false
}

func claimAudience(m map[string]any) []string {
	switch v := m["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// verifyTrusted verifies a token presented to rp's realm (Knox bearer
// topologies, RFC 8693 subject tokens): one of the realm's own tokens, or one
// from an enabled identity provider of the realm (only alias subjectIssuer
// when given).
//
// Whose token it is never depends on the request (its Host names whatever
// the caller likes) nor on realm names (a tenant may rename its realm to
// anything free): a token is the realm's own only when one of the realm's
// keys signed it, and a provider that is another realm of this server is
// that realm by ID, checked in-process with that realm's keys and full
// revocation state. Everything else is verified against the provider's
// JWKS. The user the token speaks for in rp is the caller's to map (see
// realms.Service.FederatedUser): t.user is set only for rp's own tokens.
func (s *Server) verifyTrusted(ctx context.Context, rp *realmProvider, token, subjectIssuer string) (*trustedToken, error) {
	m, ok := unverifiedClaims(token)
	if !ok {
		return nil, errInactive
	}
	if subjectIssuer == "" && rp.signedByRealm(token) {
		return s.verifyLocal(ctx, rp, token)
	}
	iss := claimString(m, "iss")
	idps, err := rp.svc.IdentityProviders(ctx, rp.realm.ID)
	if err != nil {
		return nil, err
	}
	var idp *store.IdentityProvider
	for i := range idps {
		p := &idps[i]
		if p.Enabled && p.Config["issuer"] == iss && (subjectIssuer == "" || p.Alias == subjectIssuer) {
			idp = p
			break
		}
	}
	if idp == nil {
		return nil, errInactive
	}
	var t *trustedToken
	if idp.RealmID != "" {
		st, err := rp.svc.RealmByID(ctx, idp.RealmID)
		if errors.Is(err, realms.ErrRealmNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
		other := s.providers.get(st)
		if !other.realm.Enabled || !other.signedByRealm(token) {
			return nil, errInactive
		}
		if t, err = s.verifyLocal(ctx, other, token); err != nil {
			return nil, err
		}
		// The provider realm's user is not this realm's.
		t.user, t.realm = nil, nil
	} else if t, err = s.verifyRemote(ctx, idp, token); err != nil {
		return nil, err
	}
	t.idp = idp
	return t, nil
}

// authDenied is an inactive credential whose reason the caller may learn
// (the token was valid, but speaks for no usable user here).
type authDenied struct{ desc string }

func (e *authDenied) Error() string { return e.desc }
func (e *authDenied) Unwrap() error { return errInactive }

// Reasons a valid identity-provider token speaks for no user of the realm.
var (
	errNoFederatedUser    = &authDenied{"No user found"}
	errFederatedDisabled  = &authDenied{"User disabled"}
	errFederatedAdminUser = &authDenied{"The identity provider may not act for a user with admin rights"}
)

// federatedUserDenied turns realms.Service.FederatedUser's refusals into
// errors that say why; anything else is returned as is.
func federatedUserDenied(err error) error {
	switch {
	case errors.Is(err, realms.ErrUserNotFound):
		return errNoFederatedUser
	case errors.Is(err, realms.ErrUserDisabled):
		return errFederatedDisabled
	case errors.Is(err, realms.ErrAdminMapping):
		return errFederatedAdminUser
	}
	return err
}

// signedByRealm reports whether the token's header names one of the realm's
// keys. It is a routing decision only: verification still checks the
// signature, but a token naming another key is never the realm's own.
func (rp *realmProvider) signedByRealm(token string) bool {
	kid, ok := tokenKeyID(token)
	if !ok {
		return false
	}
	_, ok = rp.state.Keys.Verifier(kid)
	return ok
}

// tokenKeyID reads the kid from a compact JWS header without verifying
// anything.
func tokenKeyID(token string) (string, bool) {
	if len(token) > maxTokenBytes {
		return "", false
	}
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", false
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil || hdr.Kid == "" {
		return "", false
	}
	return hdr.Kid, true
}

// verifyLocal checks a token issued by realm rp: an access token (with its
// session, user and client state) or a Knox token (with its managed state).
func (s *Server) verifyLocal(ctx context.Context, rp *realmProvider, token string) (*trustedToken, error) {
	if m, ok := unverifiedClaims(token); ok && isWorkloadToken(m) {
		return rp.verifyWorkloadToken(ctx, token)
	}
	if m, ok := unverifiedClaims(token); ok && m["knox.id"] != nil {
		kt, err := rp.validateKnoxToken(ctx, token)
		if err != nil {
			return nil, err
		}
		// A Knox token speaks only for the realm user it is bound to: one
		// issued to a principal with no realm user must not turn, by name,
		// into the token of a user created later.
		if kt.user == nil {
			return nil, errInactive
		}
		t := trustedFromClaims(kt.claims, kt.exp, rp)
		t.username, t.user = kt.user.Username, kt.user
		return t, nil
	}
	at, err := rp.validateAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	t := trustedFromClaims(at.raw, time.Unix(at.claims.Exp, 0), rp)
	t.username = at.user.Username
	t.user = &at.user
	return t, nil
}

func trustedFromClaims(m map[string]any, exp time.Time, rp *realmProvider) *trustedToken {
	t := &trustedToken{issuer: claimString(m, "iss"), claims: m, subject: claimString(m, "sub"), exp: exp,
		scope: claimString(m, "scope"), aud: claimAudience(m), azp: claimString(m, "azp"), sid: claimString(m, "sid"), realm: rp}
	t.username = claimString(m, "preferred_username")
	if t.username == "" {
		t.username = t.subject
	}
	return t
}

// verifyRemote checks a token of an external issuer against its JWKS.
func (s *Server) verifyRemote(ctx context.Context, idp *store.IdentityProvider, token string) (*trustedToken, error) {
	jwksURL := idp.Config["jwksUrl"]
	if jwksURL == "" {
		return nil, errInactive
	}
	jws, err := jose.ParseSigned(token, foreignAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errInactive
	}
	h := jws.Signatures[0].Header
	key, err := s.jwks.key(ctx, jwksURL, h.KeyID, h.Algorithm)
	if err != nil {
		// A remembered failure was logged when it happened: anonymous
		// callers must not be able to flood the log either.
		if !errors.Is(err, errJWKSRemembered) {
			s.log.Warn("identity provider keys unavailable", "alias", idp.Alias, "err", err)
		}
		return nil, errInactive
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, errInactive
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, errInactive
	}
	now := s.svc.Now()
	exp, ok := claimTime(m, "exp")
	if !ok || !exp.After(now) {
		return nil, errInactive
	}
	if nbf, ok := claimTime(m, "nbf"); ok && nbf.After(now.Add(clockSkew)) {
		return nil, errInactive
	}
	if claimString(m, "iss") != idp.Config["issuer"] || claimString(m, "sub") == "" {
		return nil, errInactive
	}
	return trustedFromClaims(m, exp, nil), nil
}

// clockSkew tolerated on other issuers' nbf.
const clockSkew = 30 * time.Second

// jwksCache fetches and caches identity providers' key sets. Realm admins
// choose the URLs and anonymous callers choose when tokens are presented, so
// fetching is kept cheap for us and harmless for the URL's host: at most one
// fetch per URL in flight (callers wait for it), failures remembered for
// jwksFailureTTL, cache headers respected within bounds, one refresh on an
// unknown kid (rate limited), a short timeout, a size limit and no redirects
// to another host or scheme.
type jwksCache struct {
	client  *http.Client
	now     func() time.Time
	timeout time.Duration
	flight  singleflight.Group
	mu      sync.Mutex
	sets    map[string]*jwksEntry
}

// jwksEntry is a fetched key set, or a failed fetch (err set) remembered
// until expires.
type jwksEntry struct {
	set     jose.JSONWebKeySet
	err     error
	fetched time.Time
	expires time.Time
}

const (
	jwksMaxBytes   = 1 << 20
	jwksMinTTL     = time.Minute
	jwksDefaultTTL = 10 * time.Minute
	jwksMaxTTL     = 24 * time.Hour
	// jwksRefetchGap rate-limits refreshes triggered by unknown kids, so a
	// stream of forged kids cannot turn us into a traffic amplifier.
	jwksRefetchGap = 10 * time.Second
	// jwksFailureTTL is how long a failed fetch is answered from memory.
	jwksFailureTTL = 30 * time.Second
	jwksTimeout    = 5 * time.Second
)

// errJWKSRemembered marks a lookup answered from memory without fetching.
var errJWKSRemembered = errors.New("JWKS answer remembered")

func newJWKSCache(now func() time.Time) *jwksCache {
	c := &jwksCache{sets: map[string]*jwksEntry{}, now: now, timeout: jwksTimeout}
	c.client = &http.Client{
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return errors.New("JWKS redirect to another host refused")
			}
			return nil
		},
	}
	return c
}

func (c *jwksCache) entry(url string) *jwksEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sets[url]
}

func (c *jwksCache) key(ctx context.Context, url, kid, alg string) (jose.JSONWebKey, error) {
	now := c.now()
	e := c.entry(url)
	if e != nil && now.Before(e.expires) {
		if e.err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("%w: %w", errJWKSRemembered, e.err)
		}
		if k, ok := pickKey(e.set, kid, alg); ok {
			return k, nil
		}
		if now.Sub(e.fetched) < jwksRefetchGap {
			return jose.JSONWebKey{}, fmt.Errorf("%w: no key %q in JWKS", errJWKSRemembered, kid)
		}
	}
	v, _, _ := c.flight.Do(url, func() (any, error) {
		// A flight that landed while this caller was on its way is as good
		// as a new one.
		if cur := c.entry(url); cur != nil && cur != e && c.now().Sub(cur.fetched) < jwksRefetchGap {
			return cur, nil
		}
		// The fetch serves every waiting caller: it must not die with the
		// first caller's request.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		fetched, err := c.fetch(fctx, url)
		if err != nil {
			t := c.now()
			fetched = &jwksEntry{err: err, fetched: t, expires: t.Add(jwksFailureTTL)}
		}
		c.mu.Lock()
		c.sets[url] = fetched
		c.mu.Unlock()
		return fetched, nil
	})
	e = v.(*jwksEntry)
	if e.err != nil {
		return jose.JSONWebKey{}, e.err
	}
	if k, ok := pickKey(e.set, kid, alg); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("no key %q in JWKS", kid)
}

// pickKey finds the verification key for kid (or the only signing key when
// the token names none) whose algorithm, if stated, matches.
func pickKey(set jose.JSONWebKeySet, kid, alg string) (jose.JSONWebKey, bool) {
	var cands []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if !k.IsPublic() {
			continue
		}
		if kid != "" && k.KeyID == kid {
			return k, true
		}
		cands = append(cands, k)
	}
	if kid == "" && len(cands) == 1 {
		return cands[0], true
	}
	return jose.JSONWebKey{}, false
}

func (c *jwksCache) fetch(ctx context.Context, url string) (*jwksEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS %s answered %s", url, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("JWKS %s larger than %d bytes", url, jwksMaxBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	now := c.now()
	return &jwksEntry{set: set, fetched: now, expires: now.Add(cacheTTL(res.Header.Get("Cache-Control")))}, nil
}

// cacheTTL reads max-age from Cache-Control, clamped to sane bounds.
func cacheTTL(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-store" || d == "no-cache" {
			return jwksMinTTL
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				ttl := time.Duration(n) * time.Second
				return min(max(ttl, jwksMinTTL), jwksMaxTTL)
			}
		}
	}
	return jwksDefaultTTL
}
