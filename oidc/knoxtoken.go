package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// knoxToken is a verified, currently valid Knox token of a realm, as it is
// presented here (introspection, Basic "Token", token exchange). Package
// knox issues them and serves their lifecycle.
type knoxToken struct {
	claims map[string]any
	id     string
	exp    time.Time
	// user is the realm user the token speaks for (nil for an unmanaged
	// token of a principal with no local user).
	user *store.User
}

// validateKnoxToken checks a Knox token of this realm: its signature and
// issuer here, its state (managed record, owner) by realms.KnoxService.
func (rp *realmProvider) validateKnoxToken(ctx context.Context, token string) (*knoxToken, error) {
	m, id, err := rp.knoxClaims(token)
	if err != nil {
		return nil, err
	}
	if nbf, ok := claimTime(m, "nbf"); ok && nbf.After(rp.now().Add(clockSkew)) {
		return nil, errInactive
	}
	c := realms.KnoxClaims{ID: id, Managed: claimString(m, "managed.token") == "true", UserID: claimString(m, "user_id")}
	c.IssuedAt, _ = claimTime(m, "iat")
	c.Expiry, _ = claimTime(m, "exp")
	a, err := rp.knox.Active(ctx, rp.realm, c)
	if errors.Is(err, realms.ErrKnoxInactive) {
		return nil, errInactive
	}
	if err != nil {
		return nil, err
	}
	return &knoxToken{claims: m, id: id, exp: a.Expiry, user: a.User}, nil
}

// knoxClaims verifies the signature and issuer of a Knox token, whatever
// its expiry (renewal of an expired token must say "expired", not
// "unknown").
func (rp *realmProvider) knoxClaims(token string) (map[string]any, string, error) {
	payload, _, err := rp.signer.Verify(token)
	if err != nil {
		return nil, "", errInactive
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, "", errInactive
	}
	id := claimString(m, "knox.id")
	if id == "" || !strings.HasSuffix(claimString(m, "iss"), "/realms/"+rp.realm.Name) || claimString(m, "sub") == "" {
		return nil, "", errInactive
	}
	return m, id, nil
}
