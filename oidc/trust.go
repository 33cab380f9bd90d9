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
// when given). An identity provider that is another realm of this server is
// checked in-process, with that realm's full revocation state.
func (s *Server) verifyTrusted(ctx context.Context, r *http.Request, rp *realmProvider, token, subjectIssuer string) (*trustedToken, error) {
	m, ok := unverifiedClaims(token)
	if !ok {
		return nil, errInactive
	}
	iss := claimString(m, "iss")
	if subjectIssuer == "" && strings.HasSuffix(iss, "/realms/"+rp.realm.Name) {
		return s.verifyLocal(ctx, rp, token)
	}
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
	if local := s.baseURL(r) + "/realms/"; strings.HasPrefix(iss, local) {
		other, err := s.providers.realm(ctx, strings.TrimPrefix(iss, local))
		if errors.Is(err, realms.ErrRealmNotFound) {
			return nil, errInactive
		}
		if err != nil {
			return nil, err
		}
		if !other.realm.Enabled {
			return nil, errInactive
		}
		if t, err = s.verifyLocal(ctx, other, token); err != nil {
			return nil, err
		}
	} else if t, err = s.verifyRemote(ctx, idp, token); err != nil {
		return nil, err
	}
	t.idp = idp
	return t, nil
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
		s.log.Warn("identity provider keys unavailable", "alias", idp.Alias, "err", err)
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
	now := time.Now()
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

// jwksCache fetches and caches identity providers' key sets: cache headers
// respected within bounds, one refresh on an unknown kid (rate limited), a
// timeout, a size limit and no redirects to other hosts.
type jwksCache struct {
	client *http.Client
	mu     sync.Mutex
	sets   map[string]*jwksEntry
}

type jwksEntry struct {
	set     jose.JSONWebKeySet
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
)

func newJWKSCache() *jwksCache {
	c := &jwksCache{sets: map[string]*jwksEntry{}}
	c.client = &http.Client{
		Timeout: 5 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Host != via[0].URL.Host {
				return errors.New("JWKS redirect to another host refused")
			}
			return nil
		},
	}
	return c
}

func (c *jwksCache) key(ctx context.Context, url, kid, alg string) (jose.JSONWebKey, error) {
	c.mu.Lock()
	e := c.sets[url]
	c.mu.Unlock()
	now := time.Now()
	if e != nil && now.Before(e.expires) {
		if k, ok := pickKey(e.set, kid, alg); ok {
			return k, nil
		}
		if now.Sub(e.fetched) < jwksRefetchGap {
			return jose.JSONWebKey{}, fmt.Errorf("no key %q in JWKS", kid)
		}
	}
	e, err := c.fetch(ctx, url)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	c.mu.Lock()
	c.sets[url] = e
	c.mu.Unlock()
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
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
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
	now := time.Now()
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
