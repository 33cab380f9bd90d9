package admin_test

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// GET /keys lists the realm's keys as Keycloak's KeysMetadataRepresentation:
// the public key is the one the JWKS publishes, and after a change of
// algorithm the new key is the active one while the old one still verifies.
func TestRealmKeysMetadata(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	type keysRep struct {
		Active map[string]string `json:"active"`
		Keys   []map[string]any  `json:"keys"`
	}
	jwks := func() map[string]jose.JSONWebKey {
		res, err := http.Get(e.srv.URL + "/realms/demo/protocol/openid-connect/certs")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var set jose.JSONWebKeySet
		if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		out := map[string]jose.JSONWebKey{}
		for _, k := range set.Keys {
			out[k.KeyID] = k
		}
		return out
	}
	check := func(want map[string]string) keysRep { // alg -> status
		t.Helper()
		var got keysRep
		e.must(200, "GET", "/admin/realms/demo/keys", e.admin, nil).json(t, &got)
		if len(got.Keys) != len(want) {
			t.Fatalf("keys = %v, want %v", got.Keys, want)
		}
		published := jwks()
		for _, k := range got.Keys {
			alg, kid := k["algorithm"].(string), k["kid"].(string)
			if k["status"] != want[alg] || k["use"] != "SIG" || k["providerPriority"] != 100.0 {
				t.Errorf("key %v, want status %s", k, want[alg])
			}
			if want[alg] == "ACTIVE" && got.Active[alg] != kid {
				t.Errorf("active = %v, want %s for %s", got.Active, kid, alg)
			}
			der, err := base64.StdEncoding.DecodeString(k["publicKey"].(string))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(der)
			if err != nil {
				t.Fatal(err)
			}
			jwk, ok := published[kid]
			if !ok {
				t.Fatalf("kid %s not in the JWKS", kid)
			}
			if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(jwk.Key) {
				t.Errorf("publicKey of %s is not the published key", kid)
			}
		}
		if len(got.Active) != 1 {
			t.Errorf("active = %v", got.Active)
		}
		return got
	}
	first := check(map[string]string{"RS256": "ACTIVE"})
	if first.Keys[0]["providerId"] != "rsa-generated" || first.Keys[0]["type"] != "RSA" {
		t.Errorf("RS256 key = %v", first.Keys[0])
	}
	e.must(204, "PUT", "/admin/realms/demo", e.admin, map[string]any{"defaultSignatureAlgorithm": "ES256"})
	second := check(map[string]string{"RS256": "PASSIVE", "ES256": "ACTIVE"})
	if second.Keys[1]["providerId"] != "ecdsa-generated" || second.Keys[1]["type"] != "EC" {
		t.Errorf("ES256 key = %v", second.Keys[1])
	}

	_, noRight := e.userWithRights("demo", "bob", nil, "view-users")
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/admin/realms/demo/keys", noRight, 403},
		{"/admin/realms/demo/keys", "", 401},
		{"/admin/realms/nothing/keys", e.admin, 404},
	} {
		if r := e.call("GET", tc.path, tc.token, nil); r.status != tc.status || r.obj(t)["errorMessage"] == nil {
			t.Errorf("GET %s: %d %s, want %d", tc.path, r.status, r.raw, tc.status)
		}
	}
}

// GET /users/profile answers Keycloak's UPConfig with the default
// attributes to any caller who may query users.
func TestUserProfileConfig(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	var cfg struct {
		Attributes []map[string]any `json:"attributes"`
		Policy     string           `json:"unmanagedAttributePolicy"`
	}
	e.must(200, "GET", "/admin/realms/demo/users/profile", e.admin, nil).json(t, &cfg)
	var names []string
	for _, a := range cfg.Attributes {
		names = append(names, a["name"].(string))
	}
	if len(names) != 4 || names[0] != "username" || names[1] != "email" || names[2] != "firstName" || names[3] != "lastName" || cfg.Policy != "ENABLED" {
		t.Errorf("profile = %+v", cfg)
	}
	_, querier := e.userWithRights("demo", "q", nil, "query-users")
	_, none := e.userWithRights("demo", "n", nil, "view-events")
	e.must(200, "GET", "/admin/realms/demo/users/profile", querier, nil)
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/admin/realms/demo/users/profile", none, 403},
		{"/admin/realms/demo/users/profile", "", 401},
		{"/admin/realms/nothing/users/profile", e.admin, 404},
	} {
		if r := e.call("GET", tc.path, tc.token, nil); r.status != tc.status || r.obj(t)["errorMessage"] == nil {
			t.Errorf("GET %s: %d %s, want %d", tc.path, r.status, r.raw, tc.status)
		}
	}
}
