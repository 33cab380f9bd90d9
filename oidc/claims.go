package oidc

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// accessClaims is a Keycloak-shaped access token. A struct
// rather than a map keeps claim order stable and encoding cheap.
type accessClaims struct {
	Exp               int64                `json:"exp"`
	Iat               int64                `json:"iat"`
	AuthTime          int64                `json:"auth_time,omitempty"`
	Jti               string               `json:"jti"`
	Iss               string               `json:"iss"`
	Aud               audience             `json:"aud,omitempty"`
	Sub               string               `json:"sub"`
	Typ               string               `json:"typ"`
	Azp               string               `json:"azp"`
	Sid               string               `json:"sid,omitempty"`
	Acr               string               `json:"acr,omitempty"`
	RealmAccess       *roleList            `json:"realm_access,omitempty"`
	ResourceAccess    map[string]*roleList `json:"resource_access,omitempty"`
	Scope             string               `json:"scope"`
	EmailVerified     *bool                `json:"email_verified,omitempty"`
	ClientID          string               `json:"client_id,omitempty"`
	Name              string               `json:"name,omitempty"`
	PreferredUsername string               `json:"preferred_username,omitempty"`
	GivenName         string               `json:"given_name,omitempty"`
	FamilyName        string               `json:"family_name,omitempty"`
	Email             string               `json:"email,omitempty"`
	// APIKeyID: the token was exchanged for this API key and dies with it.
	APIKeyID string `json:"api_key_id,omitempty"`
}

// idClaims is a Keycloak-shaped ID token.
type idClaims struct {
	Exp               int64  `json:"exp"`
	Iat               int64  `json:"iat"`
	AuthTime          int64  `json:"auth_time,omitempty"`
	Jti               string `json:"jti"`
	Iss               string `json:"iss"`
	Aud               string `json:"aud"`
	Sub               string `json:"sub"`
	Typ               string `json:"typ"`
	Azp               string `json:"azp"`
	Sid               string `json:"sid,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	AtHash            string `json:"at_hash,omitempty"`
	Acr               string `json:"acr,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
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

// profile holds the user claims shared by access and ID tokens and userinfo.
type profile struct {
	emailVerified                                         *bool
	name, preferredUsername, givenName, familyName, email string
}

func userProfile(u store.User, serviceAccountOf string) profile {
	if serviceAccountOf != "" {
		f := false
		return profile{emailVerified: &f, preferredUsername: u.Username}
	}
	ev := u.EmailVerified
	return profile{
		emailVerified:     &ev,
		name:              strings.TrimSpace(u.FirstName + " " + u.LastName),
		preferredUsername: u.Username,
		givenName:         u.FirstName,
		familyName:        u.LastName,
		email:             u.Email,
	}
}

// rolesClaims turns effective roles into realm_access/resource_access and
// the audience Keycloak's audience-resolve mapper derives from them: every
// client whose roles appear, other than the requesting client itself.
func rolesClaims(r realms.EffectiveRoles, azp string) (*roleList, map[string]*roleList, audience) {
	var realm *roleList
	if len(r.Realm) > 0 {
		realm = &roleList{Roles: r.Realm}
	}
	var res map[string]*roleList
	var aud audience
	for cid, names := range r.Client {
		if res == nil {
			res = map[string]*roleList{}
		}
		res[cid] = &roleList{Roles: names}
		if cid != azp {
			aud = append(aud, cid)
		}
	}
	sort.Strings(aud)
	return realm, res, aud
}
