package admin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Realm isolation matrix: for every endpoint, a credential or token of realm
// A is rejected in realm B, even though both realms have a client "app"
// and a user "alice" with the same names.
func TestRealmIsolationMatrix(t *testing.T) {
	e := newEnv(t)
	secrets := map[string]string{}
	for _, r := range []string{"a", "b"} {
		e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": r, "enabled": true})
		_, secrets[r] = e.createClient(r, e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true,
			"directAccessGrantsEnabled": true, "attributes": map[string]string{"standard.token.exchange.enabled": "true"}})
		e.must(201, "POST", "/admin/realms/"+r+"/users", e.admin, map[string]any{"username": "alice", "enabled": true,
			"credentials": []map[string]any{{"value": "pw-of-" + r}}})
	}
	id, _ := e.createClient("a", e.admin, map[string]any{"clientId": "a-admin", "serviceAccountsEnabled": true})
	e.grantRealmManagement("a", id, "realm-admin")
	e.must(201, "PUT", "/admin/gateway/topologies/b-basic", e.admin, map[string]any{"realm": "b", "authentication": "basic"})
	e.must(201, "PUT", "/admin/gateway/topologies/b-bearer", e.admin, map[string]any{"realm": "b", "authentication": "bearer"})

	_, login := e.tokenRequest("a", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-of-a"}}, "app", secrets["a"])
	at, rt := login["access_token"].(string), login["refresh_token"].(string)
	var aAdminSecret map[string]string
	e.must(200, "GET", "/admin/realms/a/clients/"+id+"/client-secret", e.admin, nil).json(t, &aAdminSecret)
	_, m := e.serviceToken("a", "a-admin", aAdminSecret["value"])
	aAdmin := m["access_token"].(string)
	var bClients []map[string]any
	e.must(200, "GET", "/admin/realms/b/clients?clientId=app", e.admin, nil).json(t, &bClients)
	bApp := bClients[0]["id"].(string)
	bGroup := idFromLocation(t, e.must(201, "POST", "/admin/realms/b/groups", e.admin, map[string]any{"name": "staff"}))
	e.must(201, "POST", "/admin/realms/b/roles", e.admin, map[string]any{"name": "b-role"})
	var bRole map[string]any
	e.must(200, "GET", "/admin/realms/b/roles/b-role", e.admin, nil).json(t, &bRole)
	e.must(201, "POST", "/admin/realms/a/roles", e.admin, map[string]any{"name": "a-role"})
	aAlice := e.userID("a", "alice")

	// Realm c trusts realm a (same server) and an external provider "corp";
	// c has its own alice. A tenant renames its realm t to "corp" and logs
	// in with Host: set to the provider's host, so its token carries the
	// provider's iss.
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "c", "enabled": true})
	_, secrets["c"] = e.createClient("c", e.admin, map[string]any{"clientId": "app",
		"attributes": map[string]string{"standard.token.exchange.enabled": "true"}})
	e.must(201, "POST", "/admin/realms/c/users", e.admin, map[string]any{"username": "alice", "enabled": true})
	corpJWKS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(corpJWKS.Close)
	const corpHost = "corp.example.test"
	e.must(201, "POST", "/admin/realms/c/identity-provider/instances", e.admin, map[string]any{"alias": "a",
		"config": map[string]any{"issuer": e.srv.URL + "/realms/a"}})
	e.must(201, "POST", "/admin/realms/c/identity-provider/instances", e.admin, map[string]any{"alias": "corp",
		"config": map[string]any{"issuer": "http://" + corpHost + "/realms/corp", "jwksUrl": corpJWKS.URL, "principalClaim": "preferred_username"}})
	e.must(201, "PUT", "/admin/gateway/topologies/c-bearer", e.admin, map[string]any{"realm": "c", "authentication": "bearer"})
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "t", "enabled": true})
	e.must(201, "POST", "/admin/realms/t/clients", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	e.must(201, "POST", "/admin/realms/t/users", e.admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"value": "pw-of-t"}}})
	e.must(204, "PUT", "/admin/realms/t", e.admin, map[string]any{"realm": "corp"})
	loginReq := e.protocolRequest("corp", "token",
		url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {"pw-of-t"}})
	loginReq.Host = corpHost
	_, m = do(t, loginReq)
	renamed, _ := m["access_token"].(string)
	exchangeAt := func(realm, subject, host string) (int, map[string]any) {
		f := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subject},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}
		req := e.protocolRequest(realm, "token", f)
		req.SetBasicAuth("app", secrets[realm])
		req.Host = host
		return do(t, req)
	}
	bearerAt := func(topology, tok, host string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/gateway/"+topology+"/knoxtoken/api/v1/token", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Host = host
		return do(t, req)
	}

	form := func(path string, f url.Values, user, pass string) (int, map[string]any) {
		req := e.protocolRequest("b", path, f)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		return do(t, req)
	}
	get := func(path, bearer, user, pass string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		return do(t, req)
	}
	cells := []struct {
		name  string
		check func() bool
	}{
		{"token: A's client secret", func() bool {
			s, _ := form("token", url.Values{"grant_type": {"client_credentials"}}, "app", secrets["a"])
			return s == 401
		}},
		{"token: A's user password", func() bool {
			s, _ := form("token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"pw-of-a"}}, "app", secrets["b"])
			return s == 401
		}},
		{"token: A's refresh token", func() bool {
			s, m := form("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", secrets["b"])
			return s == 400 && m["error"] == "invalid_grant"
		}},
		{"introspect: A's access token", func() bool {
			s, m := form("token/introspect", url.Values{"token": {at}}, "app", secrets["b"])
			return s == 200 && m["active"] == false
		}},
		{"introspect: A's refresh token", func() bool {
			s, m := form("token/introspect", url.Values{"token": {rt}}, "app", secrets["b"])
			return s == 200 && m["active"] == false
		}},
		{"introspect: A's client as caller", func() bool {
			s, _ := form("token/introspect", url.Values{"token": {at}}, "app", secrets["a"])
			return s == 401
		}},
		{"revoke: A's refresh token", func() bool {
			s, m := form("revoke", url.Values{"token": {rt}}, "app", secrets["b"])
			return s == 200 && m["error"] == "invalid_token"
		}},
		{"userinfo: A's access token", func() bool {
			s, _ := get("/realms/b/protocol/openid-connect/userinfo", at, "", "")
			return s == 401
		}},
		{"logout: A's refresh token", func() bool {
			s, _ := form("logout", url.Values{"refresh_token": {rt}}, "app", secrets["b"])
			return s == 400
		}},
		{"exchange: A's token as subject", func() bool {
			s, m := form("token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {at},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, "app", secrets["b"])
			return s == 400 && m["error"] == "invalid_token"
		}},
		{"admin: A's realm-admin on B", func() bool {
			s, _ := get("/admin/realms/b/clients", aAdmin, "", "")
			return s == 403
		}},
		{"admin: A's realm-admin creating in B", func() bool {
			return e.call("POST", "/admin/realms/b/clients", aAdmin, map[string]any{"clientId": "x"}).status == 403
		}},
		{"admin: A's realm-admin lists B's groups", func() bool {
			s, _ := get("/admin/realms/b/groups", aAdmin, "", "")
			return s == 403
		}},
		{"admin: A's realm-admin creates a group in B", func() bool {
			return e.call("POST", "/admin/realms/b/groups", aAdmin, map[string]any{"name": "x"}).status == 403
		}},
		{"admin: B's group ID under realm A (join, read)", func() bool {
			return e.call("PUT", "/admin/realms/a/users/"+aAlice+"/groups/"+bGroup, aAdmin, nil).status == 404 &&
				e.call("GET", "/admin/realms/a/groups/"+bGroup, aAdmin, nil).status == 404
		}},
		{"admin: B's role ID in A's composite and group mappings", func() bool {
			aGroup := idFromLocation(t, e.must(201, "POST", "/admin/realms/a/groups", aAdmin, map[string]any{"name": "g"}))
			return e.call("POST", "/admin/realms/a/roles/a-role/composites", aAdmin, []map[string]any{{"id": bRole["id"]}}).status == 404 &&
				e.call("POST", "/admin/realms/a/groups/"+aGroup+"/role-mappings/realm", aAdmin, []map[string]any{{"id": bRole["id"]}}).status == 404
		}},
		{"knox basic: A's user password", func() bool {
			s, _ := get("/gateway/b-basic/knoxtoken/api/v1/token", "", "alice", "pw-of-a")
			return s == 401
		}},
		{"knox bearer: A's access token", func() bool {
			s, _ := get("/gateway/b-bearer/knoxtoken/api/v1/token", at, "", "")
			return s == 401
		}},
		{"admin: A's realm-admin reads B's client brute-force state", func() bool {
			s, _ := get("/admin/realms/b/attack-detection/brute-force/clients/"+bApp, aAdmin, "", "")
			return s == 403
		}},
		{"admin: A's realm-admin clears B's client brute-force state", func() bool {
			return e.call("DELETE", "/admin/realms/b/attack-detection/brute-force/clients/"+bApp, aAdmin, nil).status == 403
		}},
		{"knox bearer: tenant realm renamed to a trusted provider's realm name, token minted with the provider's Host", func() bool {
			s, _ := bearerAt("c-bearer", renamed, corpHost)
			return renamed != "" && s == 401
		}},
		{"exchange: tenant realm renamed to a trusted provider's realm name, token minted with the provider's Host", func() bool {
			s, m := exchangeAt("c", renamed, corpHost)
			return renamed != "" && s == 400 && m["error"] == "invalid_token"
		}},
		{"knox bearer: trusted provider A's token, same username in C, no federated link", func() bool {
			s, m := bearerAt("c-bearer", at, "")
			return s == 401 && m["error_description"] == "No user found"
		}},
		{"exchange: trusted provider A's token, same username in C, no federated link", func() bool {
			s, m := exchangeAt("c", at, "")
			return s == 400 && m["error"] == "invalid_grant" && m["error_description"] == "No user found"
		}},
	}
	for _, c := range cells {
		if !c.check() {
			t.Errorf("isolation cell failed: %s", c.name)
		}
	}
	// And A's refresh token still works in A: nothing above touched it.
	if s, _ := e.tokenRequest("a", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "app", secrets["a"]); s != 200 {
		t.Errorf("A's refresh token was affected by calls to B: %d", s)
	}
	t.Logf("%d isolation cells", len(cells))
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	return doWith(t, http.DefaultClient, req)
}
