package oidc

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/gatehouse/gatehouse/realms"
)

// accessClaims are the fixed members of a Keycloak-shaped access token;
// the claims mappers add follow them (see withClaims). A struct rather than
// a map keeps claim order stable and encoding cheap.
type accessClaims struct {
	Exp            int64                `json:"exp"`
	Iat            int64                `json:"iat"`
	AuthTime       int64                `json:"auth_time,omitempty"`
	Jti            string               `json:"jti"`
	Iss            string               `json:"iss"`
	Aud            audience             `json:"aud,omitempty"`
	Sub            string               `json:"sub"`
	Typ            string               `json:"typ"`
	Azp            string               `json:"azp"`
	Sid            string               `json:"sid,omitempty"`
	Acr            string               `json:"acr,omitempty"`
	AllowedOrigins []string             `json:"allowed-origins,omitempty"`
	RealmAccess    *roleList            `json:"realm_access,omitempty"`
	ResourceAccess map[string]*roleList `json:"resource_access,omitempty"`
	Scope          string               `json:"scope"`
	// APIKeyID: the token was exchanged for this API key and dies with it.
	APIKeyID string `json:"api_key_id,omitempty"`
	// Authorization is an RPT's granted permissions.
	Authorization *rptAuthorization `json:"authorization,omitempty"`
}

// idClaims are the fixed members of a Keycloak-shaped ID token.
type idClaims struct {
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	AuthTime int64  `json:"auth_time,omitempty"`
	Jti      string `json:"jti"`
	Iss      string `json:"iss"`
	Aud      string `json:"aud"`
	Sub      string `json:"sub"`
	Typ      string `json:"typ"`
	Azp      string `json:"azp"`
	Sid      string `json:"sid,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	AtHash   string `json:"at_hash,omitempty"`
	Acr      string `json:"acr,omitempty"`
}

// claimRank orders the claims Gatehouse always emitted before mappers
// existed, so tokens of a default client keep their exact bytes; other
// mapper claims follow in the order the mappers ran.
var claimRank = map[string]int{
	"email_verified": 1, "client_id": 2, "name": 3, "preferred_username": 4,
	"given_name": 5, "family_name": 6, "email": 7,
}

// withClaims encodes fixed (a JSON object) followed by the other claims.
// Claims named like a fixed member are skipped: the protocol owns those.
func withClaims(fixed any, other []realms.Claim) ([]byte, error) {
	b, err := json.Marshal(fixed)
	if err != nil {
		return nil, err
	}
	if len(other) == 0 {
		return b, nil
	}
	// Sorted on the stack for the usual handful of claims.
	var buf [16]realms.Claim
	sorted := append(buf[:0], other...)
	rank := func(c realms.Claim) int {
		if r, ok := claimRank[c.Name]; ok {
			return r
		}
		return len(claimRank) + 1
	}
	slices.SortStableFunc(sorted, func(a, b realms.Claim) int { return rank(a) - rank(b) })
	b = b[:len(b)-1]
	for _, c := range sorted {
		if reservedClaim[c.Name] {
			continue
		}
		b = append(b, ',')
		b = appendJSONValue(b, c.Name)
		b = append(b, ':')
		if b, err = appendJSONAny(b, c.Value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// reservedClaim are the members the protocol sets; a mapper naming one
// changes nothing (Keycloak ignores them too, or sets its typed field).
var reservedClaim = map[string]bool{
	"exp": true, "iat": true, "auth_time": true, "jti": true, "iss": true, "aud": true, "sub": true, "typ": true,
	"azp": true, "sid": true, "at_hash": true, "acr": true, "scope": true, "nonce": true, "session_state": true,
	"realm_access": true, "resource_access": true, "allowed-origins": true, "authorization": true,
}

type roleList struct {
	Roles []string `json:"roles"`
}

// audience encodes as a string for one value and an array otherwise, as
// Keycloak does.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// roleClaims turns the mappers' roles into realm_access/resource_access.
func roleClaims(c *realms.Claims) (*roleList, map[string]*roleList) {
	var realm *roleList
	if len(c.RealmRoles) > 0 {
		realm = &roleList{Roles: c.RealmRoles}
	}
	var res map[string]*roleList
	for cid, names := range c.ClientRoles {
		if res == nil {
			res = map[string]*roleList{}
		}
		res[cid] = &roleList{Roles: names}
	}
	return realm, res
}

// appendJSONValue appends s as encoding/json writes it: plain printable
// ASCII as is, anything else through the encoder.
func appendJSONValue(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendJSONString(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONAny appends v as encoding/json writes it, without a detour
// through the encoder for strings and booleans.
func appendJSONAny(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendJSONValue(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}
