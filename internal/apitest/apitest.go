package apitest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Response is an HTTP answer: its raw body and, when that is a JSON
// object, the decoded object.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// Str is the string member k of the JSON body ("" when absent).
func (r Response) Str(k string) string {
	s, _ := r.Body[k].(string)
	return s
}

// Do sends req and reads the whole answer; a request that gets no answer
// fails t.
func Do(t testing.TB, req *http.Request) Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &out.Body)
	}
	return out
}

// JWTPart decodes part i (0 header, 1 claims) of a compact JWT without
// verifying it.
func JWTPart(t testing.TB, jwt string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Claims decodes a JWT's payload without verifying it.
func Claims(t testing.TB, jwt string) map[string]any { t.Helper(); return JWTPart(t, jwt, 1) }

// Header decodes a JWT's JOSE header without verifying it.
func Header(t testing.TB, jwt string) map[string]any { t.Helper(); return JWTPart(t, jwt, 0) }

// KnoxURL is the Knox API path of a topology on the server at base.
func KnoxURL(base, topology, path string) string {
	return base + "/gateway/" + topology + "/knoxtoken/api/v1/" + path
}

// Knox sends a Knox API request with Basic (user != "") or Bearer
// (bearer != "") credentials.
func Knox(t testing.TB, method, rawURL, user, pass, bearer, body string) Response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return Do(t, req)
}

// IssueKnox gets a Knox token at a Basic topology of the server at base
// with a password; any answer but 200 fails t.
func IssueKnox(t testing.TB, base, topology, user, password string) Response {
	t.Helper()
	r := Knox(t, http.MethodPost, KnoxURL(base, topology, "token"), user, password, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("issue at %s for %s: %d %s", topology, user, r.Status, r.Raw)
	}
	return r
}

// PutTopology saves a topology through the Knox service with the admin
// API's defaults, as an administrator would.
func PutTopology(t testing.TB, ks *realms.KnoxService, topo store.Topology) {
	t.Helper()
	realms.ApplyTopologyDefaults(&topo)
	if topo.LimitPerUser == 0 {
		topo.LimitPerUser = realms.DefaultKnoxLimitPerUser
	}
	ctx := context.Background()
	if err := ks.ValidateTopology(ctx, &topo); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.PutTopology(ctx, topo); err != nil {
		t.Fatal(err)
	}
}

// AddUser creates an enabled user with a password in realm.
func AddUser(t testing.TB, svc *realms.Service, realm, name, password string) store.User {
	t.Helper()
	u, err := svc.CreateUser(context.Background(), realm, realms.NewUser{User: store.User{Username: name, Enabled: true}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// GrantRealmManagement gives a user of realm a role of its
// realm-management client.
func GrantRealmManagement(t testing.TB, svc *realms.Service, st store.Store, realm, userID, role string) {
	t.Helper()
	ctx := context.Background()
	rs, err := svc.Realm(ctx, realm)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := st.GetClientByClientID(ctx, rs.Realm.ID, realms.RealmManagementClientID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.GetRoleByName(ctx, rs.Realm.ID, rm.ID, role)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.GrantRoles(ctx, realm, userID, r.ID); err != nil {
		t.Fatal(err)
	}
}
