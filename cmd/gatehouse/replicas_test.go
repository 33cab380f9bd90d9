package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
)

// Three replicas on one PostgreSQL database, requests spread round-robin:
// each change made through one replica (a new client secret, a removed
// role mapping, a logout, a revoked refresh token, a key rotation, a
// disabled user, a disabled client) holds on the other two at their very
// next request, although each had just served the realm from its caches
// (clients, users, roles, keys, verified tokens).
func TestServePostgresReplicasAgreeAtOnce(t *testing.T) {
	db := pgtest.URL(t)
	env := []string{"GATEHOUSE_ADMIN_PASSWORD=pg-Admin-1", "GATEHOUSE_STORE=" + db, "GATEHOUSE_MASTER_KEY=" + strings.Repeat("42", 32)}
	hc := &http.Client{Timeout: 20 * time.Second}
	var g []gh
	for range 3 {
		g = append(g, gh{base: startServe(t, t.TempDir(), env).base, hc: hc})
	}
	admin := func() string { return adminTokenPW(t, g[0], "pg-Admin-1") }
	adm := admin()
	mustStatus(t, 201)(g[0].json("POST", "/admin/realms", adm, map[string]any{"realm": "pg", "enabled": true}))
	for _, c := range []string{"app", "other"} {
		mustStatus(t, 201)(g[1].json("POST", "/admin/realms/pg/clients", adm, map[string]any{"clientId": c, "secret": c + "-Secret-12345",
			"serviceAccountsEnabled": true, "directAccessGrantsEnabled": true}))
	}
	for _, u := range []string{"alice", "bob"} {
		mustStatus(t, 201)(g[2].json("POST", "/admin/realms/pg/users", adm, map[string]any{"username": u, "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": u + "-Pass-1", "temporary": false}}}))
	}
	mustStatus(t, 201)(g[0].json("POST", "/admin/realms/pg/roles", adm, map[string]any{"name": "viewer"}))
	appID := idOf(t, g[1], "/admin/realms/pg/clients?clientId=app", adm)
	otherID := idOf(t, g[1], "/admin/realms/pg/clients?clientId=other", adm)
	aliceID := idOf(t, g[2], "/admin/realms/pg/users?username=alice&exact=true", adm)
	bobID := idOf(t, g[2], "/admin/realms/pg/users?username=bob&exact=true", adm)
	_, viewer, err := g[0].json("GET", "/admin/realms/pg/roles/viewer", adm, nil)
	if err != nil || viewer["id"] == nil {
		t.Fatalf("role viewer: %v %v", viewer, err)
	}
	mapping := []map[string]any{{"id": viewer["id"], "name": "viewer"}}
	mustStatus(t, 204)(g[0].json("POST", "/admin/realms/pg/users/"+aliceID+"/role-mappings/realm", adm, mapping))

	const oidcPath = "/realms/pg/protocol/openid-connect/"
	secret := "app-Secret-12345"
	clientCredentials := func(g gh, client, secret string) (int, map[string]any) {
		s, m, err := g.form(oidcPath+"token", url.Values{"grant_type": {"client_credentials"}}, client, secret)
		if err != nil {
			t.Fatal(err)
		}
		return s, m
	}
	password := func(g gh, user string) (int, map[string]any) {
		s, m, err := g.form(oidcPath+"token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {user + "-Pass-1"}}, "app", secret)
		if err != nil {
			t.Fatal(err)
		}
		return s, m
	}
	active := func(g gh, token any) bool {
		s, m, err := g.form(oidcPath+"token/introspect", url.Values{"token": {token.(string)}}, "app", secret)
		if err != nil || s != 200 {
			t.Fatalf("introspect: %d %v %v", s, m, err)
		}
		return m["active"] == true
	}
	alg := func(token any) string {
		h, err := base64URLDecode(strings.Split(token.(string), ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		var hdr struct{ Alg string }
		if err := json.Unmarshal(h, &hdr); err != nil {
			t.Fatal(err)
		}
		return hdr.Alg
	}
	var alice, bob map[string]any // the sessions the steps revoke

	for i, step := range []struct {
		name string
		// warm is a request every replica serves before the change,
		// filling its caches with the state the change replaces.
		warm   func(g gh)
		change func(g gh, admin string)
		// next is the other replicas' next request: it must see the change.
		next func(g gh) string
	}{
		{
			name: "a regenerated client secret",
			warm: func(g gh) {
				if s, m := clientCredentials(g, "app", secret); s != 200 {
					t.Fatalf("client_credentials: %d %v", s, m)
				}
			},
			change: func(g gh, admin string) {
				_, m, err := g.json("POST", "/admin/realms/pg/clients/"+appID+"/client-secret", admin, nil)
				if err != nil || m["value"] == nil {
					t.Fatalf("regenerate: %v %v", m, err)
				}
				secret = m["value"].(string)
			},
			next: func(g gh) string {
				if s, _ := clientCredentials(g, "app", "app-Secret-12345"); s == 200 {
					return "the old secret still works"
				}
				if s, m := clientCredentials(g, "app", secret); s != 200 {
					return "the new secret is refused: " + toJSON(m)
				}
				return ""
			},
		},
		{
			name: "a removed role mapping",
			warm: func(g gh) {
				if s, m := password(g, "alice"); s != 200 || !strings.Contains(decodePayload(t, m["access_token"].(string)), `"viewer"`) {
					t.Fatalf("alice's token without viewer: %d %v", s, m)
				}
			},
			change: func(g gh, admin string) {
				mustStatus(t, 204)(g.json("DELETE", "/admin/realms/pg/users/"+aliceID+"/role-mappings/realm", admin, mapping))
			},
			next: func(g gh) string {
				s, m := password(g, "alice")
				if s != 200 {
					return "password grant: " + toJSON(m)
				}
				if strings.Contains(decodePayload(t, m["access_token"].(string)), `"viewer"`) {
					return "alice's new token still holds the removed role"
				}
				return ""
			},
		},
		{
			name: "a logout (the user's sessions revoked)",
			warm: func(g gh) {
				if alice == nil {
					_, alice = password(g, "alice")
				}
				if !active(g, alice["access_token"]) {
					t.Fatal("alice's token inactive before the logout")
				}
			},
			change: func(g gh, admin string) {
				mustStatus(t, 204)(g.json("POST", "/admin/realms/pg/users/"+aliceID+"/logout", admin, nil))
			},
			next: func(g gh) string {
				if active(g, alice["access_token"]) {
					return "the logged-out session's access token is still active"
				}
				return ""
			},
		},
		{
			name: "a revoked refresh token",
			warm: func(g gh) {
				if bob == nil {
					_, bob = password(g, "bob")
				}
				if !active(g, bob["access_token"]) {
					t.Fatal("bob's token inactive before the revocation")
				}
			},
			change: func(g gh, _ string) {
				s, m, err := g.form(oidcPath+"revoke", url.Values{"token": {bob["refresh_token"].(string)}}, "app", secret)
				if err != nil || s != 200 {
					t.Fatalf("revoke: %d %v %v", s, m, err)
				}
			},
			next: func(g gh) string {
				s, _, err := g.form(oidcPath+"token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bob["refresh_token"].(string)}}, "app", secret)
				if err != nil || s == 200 {
					return "the revoked refresh token still refreshes"
				}
				return ""
			},
		},
		{
			name: "a key rotation",
			warm: func(g gh) {
				if s, m := clientCredentials(g, "app", secret); s != 200 || alg(m["access_token"]) != "RS256" {
					t.Fatalf("client_credentials before the rotation: %d %v", s, m)
				}
			},
			change: func(g gh, admin string) {
				mustStatus(t, 204)(g.json("PUT", "/admin/realms/pg", admin, map[string]any{"defaultSignatureAlgorithm": "ES256"}))
			},
			next: func(g gh) string {
				s, m := clientCredentials(g, "app", secret)
				if s != 200 {
					return "client_credentials: " + toJSON(m)
				}
				if a := alg(m["access_token"]); a != "ES256" {
					return "signed with the replaced key's " + a
				}
				return ""
			},
		},
		{
			name: "a disabled user",
			warm: func(g gh) {
				if s, m := password(g, "bob"); s != 200 || !active(g, m["access_token"]) {
					t.Fatalf("bob before being disabled: %d %v", s, m)
				}
				_, bob = password(g, "bob")
			},
			change: func(g gh, admin string) {
				mustStatus(t, 204)(g.json("PUT", "/admin/realms/pg/users/"+bobID, admin, map[string]any{"enabled": false}))
			},
			next: func(g gh) string {
				if active(g, bob["access_token"]) {
					return "the disabled user's access token is still active"
				}
				if s, _ := password(g, "bob"); s == 200 {
					return "the disabled user still signs in"
				}
				return ""
			},
		},
		{
			name: "a disabled client",
			warm: func(g gh) {
				if s, m := clientCredentials(g, "other", "other-Secret-12345"); s != 200 {
					t.Fatalf("client_credentials: %d %v", s, m)
				}
			},
			change: func(g gh, admin string) {
				mustStatus(t, 204)(g.json("PUT", "/admin/realms/pg/clients/"+otherID, admin, map[string]any{"clientId": "other", "enabled": false}))
			},
			next: func(g gh) string {
				if s, _ := clientCredentials(g, "other", "other-Secret-12345"); s == 200 {
					return "the disabled client still gets tokens"
				}
				return ""
			},
		},
	} {
		for _, r := range g {
			step.warm(r)
		}
		on := i % len(g)
		step.change(g[on], admin())
		for k := 1; k < len(g); k++ {
			other := (on + k) % len(g)
			if msg := step.next(g[other]); msg != "" {
				t.Errorf("%s on replica %d, next request on replica %d: %s", step.name, on, other, msg)
			}
		}
	}
}

// idOf is the id of the only element of the admin list at path.
func idOf(t *testing.T, g gh, path, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", g.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := g.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list []struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || len(list) != 1 {
		t.Fatalf("GET %s: %d %v %v", path, res.StatusCode, list, err)
	}
	return list[0].ID
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
