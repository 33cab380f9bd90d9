package admin_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/cdpsign"
)

// An admin lists a user's API keys, reads the per-user counts of the whole
// realm in one call, deletes one key and then all of them; every create and
// delete is an admin event without the key; the realm's key lifetimes are
// realm settings.
func TestAdminManagesUsersAPIKeys(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true,
		"apiKeyDefaultLifespanDays": 30, "apiKeyMaxLifespanDays": 60})
	rep := e.must(200, "GET", "/admin/realms/demo", e.admin, nil).obj(t)
	if rep["apiKeyDefaultLifespanDays"] != float64(30) || rep["apiKeyMaxLifespanDays"] != float64(60) || rep["workloadTokenLifespan"] != float64(3600) {
		t.Fatalf("realm key settings: %v", rep)
	}
	r := e.call("PUT", "/admin/realms/demo", e.admin, map[string]any{"apiKeyDefaultLifespanDays": 90})
	if r.status != 400 || !strings.Contains(r.raw, "apiKeyMaxLifespanDays") {
		t.Fatalf("default beyond the maximum: %d %s", r.status, r.raw)
	}
	e.createClient("demo", e.admin, map[string]any{"clientId": "cli", "publicClient": true, "directAccessGrantsEnabled": true})
	var ids []string
	for _, name := range []string{"alice", "bob"} {
		loc := e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": name, "enabled": true,
			"credentials": []map[string]any{{"type": "password", "value": "Pass-" + name, "temporary": false}}})
		ids = append(ids, idFromLocation(t, loc))
	}
	alice, bob := ids[0], ids[1]
	aliceTok := e.passwordToken("demo", "cli", "", "alice", "Pass-alice")
	var keys []string
	for range 2 {
		req := e.call("POST", "/realms/demo/account/api-keys", aliceTok, map[string]any{"description": "job"})
		if req.status != 201 {
			t.Fatalf("alice creates a key: %d %s", req.status, req.raw)
		}
		keys = append(keys, req.obj(t)["apiKey"].(string))
	}
	counts := e.must(200, "GET", "/admin/realms/demo/api-keys/counts", e.admin, nil).obj(t)
	if counts[alice] != float64(2) || counts[bob] != nil {
		t.Fatalf("counts %v", counts)
	}
	var listed []map[string]any
	e.must(200, "GET", "/admin/realms/demo/users/"+alice+"/api-keys", e.admin, nil).json(t, &listed)
	if len(listed) != 2 || listed[0]["apiKey"] != nil || listed[0]["keyId"] == nil {
		t.Fatalf("listed %v", listed)
	}
	first := listed[0]["keyId"].(string)
	e.must(404, "DELETE", "/admin/realms/demo/users/"+bob+"/api-keys/"+first, e.admin, nil)
	e.must(204, "DELETE", "/admin/realms/demo/users/"+alice+"/api-keys/"+first, e.admin, nil)
	e.must(204, "DELETE", "/admin/realms/demo/users/"+alice+"/api-keys", e.admin, nil)
	e.must(200, "GET", "/admin/realms/demo/users/"+alice+"/api-keys", e.admin, nil).json(t, &listed)
	if len(listed) != 0 {
		t.Fatalf("keys left after delete-all: %v", listed)
	}
	events := e.must(200, "GET", "/admin/realms/demo/admin-events?max=50", e.admin, nil).raw
	for _, k := range keys {
		if strings.Contains(events, k[len(k)-30:]) {
			t.Fatal("an admin event carries a key")
		}
	}
	if n := strings.Count(events, "/api-keys/"); n != 4 {
		t.Fatalf("%d key events, want 2 creates and 2 deletes: %s", n, events)
	}
	// Users without view-users see no keys.
	bobTok := e.passwordToken("demo", "cli", "", "bob", "Pass-bob")
	e.must(403, "GET", "/admin/realms/demo/users/"+alice+"/api-keys", bobTok, nil)
	e.must(403, "GET", "/admin/realms/demo/api-keys/counts", bobTok, nil)
}

// An admin creates an access key pair for a user, sees it listed, sets it
// INACTIVE and deletes it; the pair signs for the user while ACTIVE.
func TestAdminManagesUsersAccessKeys(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	bob := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "bob", "enabled": true}))
	base := "/admin/realms/demo/users/" + bob + "/access-keys"
	created := e.must(201, "POST", base, e.admin, map[string]any{"type": "ed25519v1"}).obj(t)
	id, private := created["accessKeyId"].(string), created["privateKey"].(string)
	if id == "" || private == "" || created["status"] != "ACTIVE" {
		t.Fatalf("created %v", created)
	}
	e.must(400, "POST", base, e.admin, map[string]any{"type": "dsav1"})
	s, err := cdpsign.New(id, private)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(now time.Time) int {
		p := "/realms/demo/api/v1/iam/generateWorkloadAuthToken"
		date, auth, err := s.Headers("POST", "application/json", p, now)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", e.srv.URL+p, strings.NewReader(`{"workloadName":"DF"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-altus-date", date)
		req.Header.Set("x-altus-auth", auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := sign(time.Now()); got != 200 {
		t.Fatalf("signed with the admin-made key: %d", got)
	}
	var listed []map[string]any
	e.must(200, "GET", base, e.admin, nil).json(t, &listed)
	if len(listed) != 1 || listed[0]["accessKeyId"] != id || listed[0]["privateKey"] != nil {
		t.Fatalf("listed %v", listed)
	}
	if got := e.must(200, "PUT", base+"/"+id, e.admin, map[string]any{"status": "INACTIVE"}).obj(t); got["status"] != "INACTIVE" {
		t.Fatalf("after disabling: %v", got)
	}
	if got := sign(time.Now().Add(time.Second)); got != 403 {
		t.Fatalf("signed with the INACTIVE key: %d", got)
	}
	e.must(404, "PUT", "/admin/realms/demo/users/"+bob+"/access-keys/nope", e.admin, map[string]any{"status": "ACTIVE"})
	e.must(204, "DELETE", base+"/"+id, e.admin, nil)
	e.must(404, "DELETE", base+"/"+id, e.admin, nil)
	if got := sign(time.Now().Add(2 * time.Second)); got != 401 {
		t.Fatalf("signed with the deleted key: %d", got)
	}
}
