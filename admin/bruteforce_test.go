package admin_test

import (
	"net/http"
	"net/url"
	"testing"
)

// Keycloak's brute-force semantics: after failureFactor wrong passwords the
// user is locked and even the right password gets the unknown-user answer,
// for the password grant and Knox Basic alike, until the wait passes or an
// admin clears it. (Client secrets: TestClientSecretLockoutThrottlesTheSourceOnly.)
func TestBruteForceDetection(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true,
		"bruteForceProtected": true, "failureFactor": 3, "waitIncrementSeconds": 60, "quickLoginCheckMilliSeconds": 1})
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "directAccessGrantsEnabled": true, "serviceAccountsEnabled": true})
	_ = id
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "alice", "enabled": true, "credentials": []map[string]any{{"value": "right-Pass-1"}}}))
	e.must(201, "PUT", "/admin/gateway/topologies/authtkn", e.admin, map[string]any{"realm": "demo", "authentication": "basic"})
	login := func(pw string) (int, map[string]any) {
		return e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}}, "app", secret)
	}
	knox := func(pw string) int {
		req, _ := http.NewRequest("GET", e.srv.URL+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
		req.SetBasicAuth("alice", pw)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 {
		if s, _ := login("wrong"); s != 401 {
			t.Fatalf("wrong password: %d", s)
		}
	}
	if s, m := login("right-Pass-1"); s != 400 || m["error_description"] != "Invalid user credentials" {
		t.Errorf("locked user with the right password: %d %v", s, m)
	}
	if s := knox("right-Pass-1"); s != 401 {
		t.Errorf("locked user via Knox Basic: %d", s)
	}
	st := e.must(200, "GET", "/admin/realms/demo/attack-detection/brute-force/users/"+uid, e.admin, nil).obj(t)
	if st["numFailures"] != float64(3) || st["disabled"] != true || st["lastIPFailure"] != "127.0.0.1" {
		t.Errorf("status: %v", st)
	}
	e.must(204, "DELETE", "/admin/realms/demo/attack-detection/brute-force/users/"+uid, e.admin, nil)
	if s, m := login("right-Pass-1"); s != 200 {
		t.Errorf("after clearing: %d %v", s, m)
	}
	if st := e.must(200, "GET", "/admin/realms/demo/attack-detection/brute-force/users/"+uid, e.admin, nil).obj(t); st["numFailures"] != float64(0) {
		t.Errorf("success did not reset: %v", st)
	}
}

// Wrong client secrets throttle the address they come from, never the
// client: anyone who knows a client_id could otherwise take the service
// offline. An admin sees and clears the throttled addresses, and a new
// secret clears them too.
func TestClientSecretLockoutThrottlesTheSourceOnly(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true,
		"bruteForceProtected": true, "failureFactor": 2, "waitIncrementSeconds": 3600})
	id, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true})
	const attacker, service = "127.0.0.1", "127.0.0.2"
	cc := func(from, sec string) int {
		s, _ := e.tokenRequestFrom(from, "demo", url.Values{"grant_type": {"client_credentials"}}, "app", sec)
		return s
	}
	lock := func() {
		t.Helper()
		for range 2 {
			if s := cc(attacker, "wrong"); s != 401 {
				t.Fatalf("wrong secret: %d", s)
			}
		}
		if s := cc(attacker, secret); s != 401 {
			t.Fatalf("right secret from the throttled address: %d, want 401", s)
		}
	}
	lock()
	if s := cc(service, secret); s != 200 {
		t.Fatalf("right secret from another address while %s is throttled: %d", attacker, s)
	}
	path := "/admin/realms/demo/attack-detection/brute-force/clients/" + id
	st := e.must(200, "GET", path, e.admin, nil).obj(t)
	srcs, _ := st["sources"].([]any)
	if st["disabled"] != true || st["numFailures"] != float64(2) || len(srcs) != 1 {
		t.Fatalf("status: %v", st)
	}
	if src := srcs[0].(map[string]any); src["ipAddress"] != attacker || src["numFailures"] != float64(2) || src["disabled"] != true {
		t.Errorf("source: %v", src)
	}
	e.must(204, "DELETE", path, e.admin, nil)
	if st := e.must(200, "GET", path, e.admin, nil).obj(t); st["disabled"] != false || st["numFailures"] != float64(0) {
		t.Errorf("after clearing: %v", st)
	}
	if s := cc(attacker, secret); s != 200 {
		t.Errorf("right secret after an admin cleared the address: %d", s)
	}

	// A regenerated secret starts with a clean slate.
	lock()
	var sec map[string]string
	e.must(200, "POST", "/admin/realms/demo/clients/"+id+"/client-secret", e.admin, nil).json(t, &sec)
	secret = sec["value"]
	if s := cc(attacker, secret); s != 200 {
		t.Errorf("new secret from the address that was throttled: %d", s)
	}

	// Seeing needs view-clients, clearing manage-clients.
	viewerID, viewerSecret := e.createClient("demo", e.admin, map[string]any{"clientId": "viewer", "serviceAccountsEnabled": true})
	e.grantRealmManagement("demo", viewerID, "view-clients")
	_, m := e.serviceToken("demo", "viewer", viewerSecret)
	viewer := m["access_token"].(string)
	e.must(200, "GET", path, viewer, nil)
	e.must(403, "DELETE", path, viewer, nil)
	e.must(404, "GET", "/admin/realms/demo/attack-detection/brute-force/clients/no-such-client", e.admin, nil)
}

func TestBruteForcePermanentLockout(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true,
		"bruteForceProtected": true, "failureFactor": 2, "permanentLockout": true})
	_, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "directAccessGrantsEnabled": true})
	uid := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{
		"username": "bob", "enabled": true, "credentials": []map[string]any{{"value": "right-Pass-1"}}}))
	for range 2 {
		e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"x"}}, "app", secret)
	}
	if s, _ := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"right-Pass-1"}}, "app", secret); s != 400 {
		t.Errorf("permanently locked: %d", s)
	}
	e.must(204, "DELETE", "/admin/realms/demo/attack-detection/brute-force/users/"+uid, e.admin, nil)
	if s, _ := e.tokenRequest("demo", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"right-Pass-1"}}, "app", secret); s != 200 {
		t.Errorf("after clearing: %d", s)
	}
}
