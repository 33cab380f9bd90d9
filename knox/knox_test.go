package knox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// The authtkn flow verbatim: curl -u user …/gateway/authtkn/knoxtoken/api/v1/token | jq -r .access_token.
func TestKnoxBasicTopology(t *testing.T) {
	e := newEnv(t)
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H",
		Audiences: []string{"cde"}, TargetURL: "https://cde.example/api", ClientData: map[string]string{"homepage_url": "https://cde.example"}})
	before := time.Now()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r := e.knox(method, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", method, r.Status, r.Raw)
		}
		tok := r.Str("access_token")
		c := claims(t, tok)
		if r.Str("token_id") == "" || c["knox.id"] != r.Str("token_id") || r.Str("managed") != "false" || r.Str("token_type") != "Bearer" ||
			r.Str("target_url") != "https://cde.example/api" || r.Str("homepage_url") != "https://cde.example" {
			t.Errorf("response: %s", r.Raw)
		}
		exp, _ := r.Body["expires_in"].(float64)
		if ms := int64(exp); ms < before.Add(59*time.Minute).UnixMilli() || ms > time.Now().Add(61*time.Minute).UnixMilli() {
			t.Errorf("expires_in = %v, want epoch ms about an hour ahead", ms)
		}
		if c["sub"] != "alice" || c["iss"] != e.issuer() || c["aud"] != "cde" || c["managed.token"] != "false" || c["preferred_username"] != "alice" {
			t.Errorf("claims: %v", c)
		}
		if header(t, tok)["kid"] == nil {
			t.Error("no kid")
		}
		// Any JWKS-based library verifies it against jwks.json.
		keySet := gooidc.NewRemoteKeySet(context.Background(), e.gateway("authtkn", "jwks.json"))
		if _, err := keySet.VerifySignature(context.Background(), tok); err != nil {
			t.Errorf("jwks.json does not verify the token: %v", err)
		}
		if in := e.introspect(tok); in.Body["active"] != true || in.Str("username") != "alice" {
			t.Errorf("introspection: %s", in.Raw)
		}
	}
	for name, creds := range map[string][2]string{"wrong password": {"alice", "nope"}, "unknown user": {"mallory", "x"}, "none": {"", ""}} {
		if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), creds[0], creds[1], "", ""); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := e.knox(http.MethodGet, e.gateway("nope", "token"), "alice", alicePassword, "", ""); r.Status != 404 {
		t.Errorf("unknown topology: %d", r.Status)
	}
}

func TestKnoxLifespan(t *testing.T) {
	e := newEnv(t)
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H"})
	expiry := func(q string) (time.Duration, response) {
		r := e.knox(http.MethodGet, e.gateway("authtkn", "token")+q, "alice", alicePassword, "", "")
		ms, _ := r.Body["expires_in"].(float64)
		return time.Until(time.UnixMilli(int64(ms))), r
	}
	if d, r := expiry("?lifespan=PT5M"); d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("lifespan PT5M: %v %s", d, r.Raw)
	}
	if d, _ := expiry("?lifespan=P7D"); d < 59*time.Minute || d > time.Hour {
		t.Errorf("lifespan beyond ttl not capped: %v", d)
	}
	if _, r := expiry("?lifespan=forever"); r.Status != 400 {
		t.Errorf("bad lifespan: %d %s", r.Status, r.Raw)
	}
}

// Managed tokens: passcode, revoke, renew rules, enable/disable and listing.
func TestKnoxManagedLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "bob", Enabled: true}, Password: "bob-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "renewer", Enabled: true}, Password: "renew-Pass-1"}); err != nil {
		t.Fatal(err)
	}
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
		Renewers: []string{"renewer"}, RenewInterval: "PT2H", MaxLifetime: "PT3H"})
	issue := func() response {
		r := e.knox(http.MethodPost, e.gateway("authtkn", "token")+"?comment=ci&md_job=nightly", "alice", alicePassword, "", "")
		if r.Status != 200 || r.Str("managed") != "true" || r.Str("passcode") == "" {
			t.Fatalf("issue: %d %s", r.Status, r.Raw)
		}
		return r
	}
	tok := issue()
	jwt, id, passcode := tok.Str("access_token"), tok.Str("token_id"), tok.Str("passcode")

	// The passcode authenticates as alice.
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", ""); r.Status != 200 || claims(t, r.Str("access_token"))["sub"] != "alice" {
		t.Fatalf("passcode: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode+"x", "", ""); r.Status != 401 {
		t.Errorf("bad passcode: %d", r.Status)
	}

	// Renew: the owner and renewers may; others may not.
	renew := func(user, pass string) response {
		return e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), user, pass, "", jwt)
	}
	if r := renew("bob", "bob-Pass-1"); r.Status != 403 || r.Str("renewed") != "false" || r.Body["code"] != float64(20) {
		t.Errorf("stranger renews: %d %s", r.Status, r.Raw)
	}
	r := renew("renewer", "renew-Pass-1")
	if r.Status != 200 || r.Str("renewed") != "true" {
		t.Fatalf("renewer: %d %s", r.Status, r.Raw)
	}
	exp, _ := json.Number(r.Str("expires")).Int64()
	if d := time.Until(time.UnixMilli(exp)); d < 110*time.Minute || d > 2*time.Hour {
		t.Errorf("renewed expiry in %v, want the 2h renew interval", d)
	}
	if in := e.introspect(jwt); in.Body["active"] != true || int64(in.Body["exp"].(float64)) != exp/1000 {
		t.Errorf("introspection after renew: %s", in.Raw)
	}

	// Listing and enable/disable: owners yes, strangers no.
	list := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+"?userName=alice", "alice", alicePassword, "", "")
	var listed struct {
		Tokens []struct {
			TokenID  string `json:"tokenId"`
			Metadata struct {
				Comment string            `json:"comment"`
				Custom  map[string]string `json:"customMetadataMap"`
			} `json:"metadata"`
		} `json:"tokens"`
	}
	_ = json.Unmarshal([]byte(list.Raw), &listed)
	// Two tokens: the first, and the one the passcode login issued.
	if list.Status != 200 || len(listed.Tokens) != 2 || listed.Tokens[0].TokenID != id || listed.Tokens[0].Metadata.Comment != "ci" ||
		listed.Tokens[0].Metadata.Custom["job"] != "nightly" {
		t.Errorf("getUserTokens: %d %s", list.Status, list.Raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+"?userName=alice", "bob", "bob-Pass-1", "", ""); r.Status != 403 {
		t.Errorf("bob lists alice's tokens: %d", r.Status)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "bob", "bob-Pass-1", "", id); r.Status != 403 {
		t.Errorf("bob disables alice's token: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", id); r.Status != 200 || r.Str("isEnabled") != "false" {
		t.Fatalf("disable: %d %s", r.Status, r.Raw)
	}
	if in := e.introspect(jwt); in.Body["active"] != false {
		t.Errorf("disabled token active: %s", in.Raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", id); r.Status != 400 || r.Body["code"] != float64(60) {
		t.Errorf("second disable: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/enable"), "alice", alicePassword, "", id); r.Status != 200 || r.Str("isEnabled") != "true" {
		t.Fatalf("enable: %d %s", r.Status, r.Raw)
	}

	// Revoke: immediately inactive everywhere.
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "bob", "bob-Pass-1", "", id); r.Status != 403 {
		t.Errorf("stranger revokes: %d", r.Status)
	}
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "alice", alicePassword, "", id); r.Status != 200 || r.Str("revoked") != "true" {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if in := e.introspect(jwt); in.Body["active"] != false {
		t.Errorf("revoked token active at introspection: %s", in.Raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", ""); r.Status != 401 {
		t.Errorf("revoked token's passcode still works: %d", r.Status)
	}
	if r := renew("alice", alicePassword); r.Status != 400 || r.Body["code"] != float64(50) {
		t.Errorf("renew after revoke: %d %s", r.Status, r.Raw)
	}
}

func TestKnoxPerUserLimit(t *testing.T) {
	for _, action := range []string{"RETURN_ERROR", "REMOVE_OLDEST"} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t)
			e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
				LimitPerUser: 2, LimitAction: action})
			var toks []string
			for range 2 {
				r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
				if r.Status != 200 {
					t.Fatal(r.Raw)
				}
				toks = append(toks, r.Str("access_token"))
			}
			r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", alicePassword, "", "")
			active := func(tok string) bool {
				return e.introspect(tok).Body["active"] == true
			}
			if action == "RETURN_ERROR" {
				if r.Status != 403 {
					t.Fatalf("third token: %d %s", r.Status, r.Raw)
				}
				return
			}
			if r.Status != 200 {
				t.Fatalf("third token: %d %s", r.Status, r.Raw)
			}
			if active(toks[0]) || !active(toks[1]) || !active(r.Str("access_token")) {
				t.Errorf("REMOVE_OLDEST did not revoke exactly the oldest token")
			}
		})
	}
}

// Knox tokens belong to the user's ID: a user created later with the same
// name neither sees nor uses the earlier user's tokens, and those tokens do
// not count toward the new user's limit.
func TestKnoxTokensBoundToUserID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true, LimitPerUser: 1})
	old := e.issueKnox("authtkn", "alice", alicePassword)
	oldJWT, oldID, oldPasscode := old.Str("access_token"), old.Str("token_id"), old.Str("passcode")
	if err := e.svc.DeleteUser(ctx, "demo", e.alice.ID); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", alicePassword)

	for _, q := range []string{"", "?userName=alice", "?createdBy=alice", "?userNameOrCreatedBy=alice"} {
		r := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+q, "alice", alicePassword, "", "")
		if toks, _ := r.Body["tokens"].([]any); r.Status != 200 || len(toks) != 0 {
			t.Errorf("new alice lists %q: %d %s", q, r.Status, r.Raw)
		}
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", oldPasscode, "", ""); r.Status != 401 {
		t.Errorf("old alice's passcode logs in: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Token", oldJWT, "", ""); r.Status != 401 {
		t.Errorf("old alice's token logs in: %d %s", r.Status, r.Raw)
	}
	if e.introspectActive(oldJWT) {
		t.Error("old alice's token is active")
	}
	for _, op := range []struct{ method, path, flag string }{
		{http.MethodPost, "token/revoke", "revoked"},
		{http.MethodPut, "token/disable", "setEnabledFlag"},
		{http.MethodPost, "token/renew", "renewed"},
	} {
		r := e.knox(op.method, e.gateway("authtkn", op.path), "alice", alicePassword, "", oldID)
		if op.path == "token/renew" {
			r = e.knox(op.method, e.gateway("authtkn", op.path), "alice", alicePassword, "", oldJWT)
		}
		if r.Status != 403 || r.Str(op.flag) != "false" || r.Body["code"] != float64(20) {
			t.Errorf("new alice %s old alice's token: %d %s", op.path, r.Status, r.Raw)
		}
	}
	// The old token (still stored until it expires) is not the new alice's.
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token"), "alice", alicePassword, "", ""); r.Status != 200 {
		t.Errorf("new alice's first token refused by the per-user limit: %d %s", r.Status, r.Raw)
	}
}

// Renewal is for the topology's configured renewers and for the owner who
// proves their password; a token never renews itself, whether presented as
// Basic Token: or as its passcode, a renewer of another topology may not,
// and a disabled token is not renewed.
func TestKnoxRenewIsForRenewersAndPasswordOwners(t *testing.T) {
	e := newEnv(t)
	e.addUser("renewer", "renew-Pass-1")
	e.addUser("renewer-b", "renew-Pass-2")
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
		Renewers: []string{"renewer"}})
	e.putTopology(store.Topology{Name: "other", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
		Renewers: []string{"renewer-b"}})
	tok := e.issueKnox("authtkn", "alice", alicePassword)
	jwt, passcode := tok.Str("access_token"), tok.Str("passcode")
	sibling := e.issueKnox("authtkn", "alice", alicePassword)

	for _, c := range []struct {
		name, topology, user, pass string
		status                     int
		code                       float64
	}{
		{"the token itself as Basic Token:", "authtkn", "Token", jwt, 403, 20},
		{"the token's own passcode", "authtkn", "Passcode", passcode, 403, 20},
		{"another token of the owner", "authtkn", "Token", sibling.Str("access_token"), 403, 20},
		{"another token's passcode of the owner", "authtkn", "Passcode", sibling.Str("passcode"), 403, 20},
		{"a renewer of another topology, there", "other", "renewer-b", "renew-Pass-2", 403, 20},
		{"a renewer of another topology, here", "authtkn", "renewer-b", "renew-Pass-2", 403, 20},
		{"the topology's renewer", "authtkn", "renewer", "renew-Pass-1", 200, 0},
		{"the owner by password", "authtkn", "alice", alicePassword, 200, 0},
	} {
		r := e.knox(http.MethodPost, e.gateway(c.topology, "token/renew"), c.user, c.pass, "", jwt)
		if r.Status != c.status || (c.status != 200 && (r.Str("renewed") != "false" || r.Body["code"] != c.code)) {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
	}
	if r := e.knox(http.MethodPost, e.gateway("other", "token/revoke"), "renewer-b", "renew-Pass-2", "", tok.Str("token_id")); r.Status != 403 {
		t.Errorf("a renewer of another topology revokes: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", tok.Str("token_id")); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Raw)
	}
	for _, who := range [][2]string{{"renewer", "renew-Pass-1"}, {"alice", alicePassword}} {
		if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), who[0], who[1], "", jwt); r.Status != 400 || r.Str("renewed") != "false" || r.Body["code"] != float64(40) {
			t.Errorf("%s renews a disabled token: %d %s", who[0], r.Status, r.Raw)
		}
	}
}

// What a realm admin disabled, its owner cannot enable; what the owner
// disabled, the owner may enable, until an admin disables it too.
func TestKnoxAdminDisableSticks(t *testing.T) {
	e := newEnv(t)
	admin := e.addUser("admin", "admin-Pass-1")
	e.grantRealmManagement(admin.ID, "manage-users")
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true})
	id := e.issueKnox("authtkn", "alice", alicePassword).Str("token_id")
	set := func(op, user, pass string) response {
		return e.knox(http.MethodPut, e.gateway("authtkn", "token/"+op), user, pass, "", id)
	}
	for _, step := range []struct {
		op, user, pass string
		status         int
		code           float64
	}{
		{"disable", "admin", "admin-Pass-1", 200, 0},
		{"enable", "alice", alicePassword, 403, 20},
		{"disable", "admin", "admin-Pass-1", 400, 60},
		{"enable", "admin", "admin-Pass-1", 200, 0},
		{"disable", "alice", alicePassword, 200, 0},
		{"enable", "alice", alicePassword, 200, 0},
		{"disable", "alice", alicePassword, 200, 0},
		{"disable", "alice", alicePassword, 400, 60},
		// The admin takes over the owner's disabling.
		{"disable", "admin", "admin-Pass-1", 200, 0},
		{"enable", "alice", alicePassword, 403, 20},
		{"enable", "admin", "admin-Pass-1", 200, 0},
		{"enable", "alice", alicePassword, 400, 70},
	} {
		r := set(step.op, step.user, step.pass)
		if r.Status != step.status || (step.status != 200 && (r.Str("setEnabledFlag") != "false" || r.Body["code"] != step.code)) {
			t.Fatalf("%s by %s: %d %s, want %d code %v", step.op, step.user, r.Status, r.Raw, step.status, step.code)
		}
	}
}

// A managed token whose row has no owner ID (written before tokens were
// bound to user IDs) speaks for nobody: it is inactive, even for the user
// whose name it carries.
func TestKnoxTokenRowWithoutUserIDIsInactive(t *testing.T) {
	e := newEnv(t)
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true})
	tok := e.issueKnox("authtkn", "alice", alicePassword)
	if _, err := e.store.UpdateKnoxToken(context.Background(), e.realmID(), tok.Str("token_id"), func(k *store.KnoxToken) error {
		k.UserID, k.CreatedByID = "", ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if e.introspectActive(tok.Str("access_token")) {
		t.Error("ownerless token active at introspection")
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", tok.Str("passcode"), "", ""); r.Status != 401 {
		t.Errorf("ownerless token's passcode: %d %s", r.Status, r.Raw)
	}
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "alice", alicePassword, "", tok.Str("token_id")); r.Status != 403 {
		t.Errorf("alice revokes an ownerless token by its name: %d %s", r.Status, r.Raw)
	}
}

// Renewers are named in the topology as in Knox's whitelist, but the name
// is bound to the realm user who held it when the topology was saved: a
// user created later under a deleted renewer's name is no renewer until a
// master admin saves the topology again.
func TestKnoxRenewersAreBoundToUserIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	renewer := e.addUser("renewer", "renew-Pass-1")
	topo := store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true, Renewers: []string{"renewer"}}
	e.putTopology(topo)
	jwt := e.issueKnox("authtkn", "alice", alicePassword).Str("access_token")
	renew := func() response {
		return e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), "renewer", "renew-Pass-1", "", jwt)
	}
	if r := renew(); r.Status != 200 {
		t.Fatalf("renewer: %d %s", r.Status, r.Raw)
	}
	if err := e.svc.DeleteUser(ctx, "demo", renewer.ID); err != nil {
		t.Fatal(err)
	}
	e.addUser("renewer", "renew-Pass-1")
	if r := renew(); r.Status != 403 || r.Body["code"] != float64(20) {
		t.Errorf("a later user named like the deleted renewer renews: %d %s", r.Status, r.Raw)
	}
	e.putTopology(topo)
	if r := renew(); r.Status != 200 {
		t.Errorf("renewer after the topology was saved again: %d %s", r.Status, r.Raw)
	}
}

// A topology is bound to its realm's ID, not its name: renaming the realm
// keeps the topology issuing tokens (for the same users, under the new
// issuer), the admin view names the new name, and a realm created later
// under the old name, or left when the bound realm is deleted, gets nothing
// of it.
func TestKnoxTopologyFollowsItsRealmThroughARename(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true})
	first := e.issueKnox("authtkn", "alice", alicePassword)
	if _, err := e.svc.UpdateRealm(ctx, "demo", func(r *store.Realm) error { r.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}

	r := e.issueKnox("authtkn", "alice", alicePassword)
	if c := claims(t, r.Str("access_token")); c["iss"] != e.base+"/realms/renamed" || c["user_id"] != e.alice.ID {
		t.Errorf("token after the rename: claims %v, want issuer …/realms/renamed and alice's ID", c)
	}
	if top, err := e.knoxSvc.Topology(ctx, "authtkn"); err != nil || top.Realm != "renamed" {
		t.Errorf("topology after the rename = %+v, %v; want realm renamed", top, err)
	}
	// Tokens issued before the rename stay managed by the topology.
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", first.Str("token_id")); r.Status != 200 {
		t.Errorf("disable a token issued before the rename: %d %s", r.Status, r.Raw)
	}

	// A new realm under the old name, with its own alice, is not the
	// topology's realm.
	if _, err := e.svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "demo", realms.NewUser{User: store.User{Username: "alice", Enabled: true}, Password: "other-Alice-1"}); err != nil {
		t.Fatal(err)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", "other-Alice-1", "", ""); r.Status != 401 {
		t.Errorf("the new demo realm's alice at the topology: %d %s", r.Status, r.Raw)
	}
	if err := e.svc.DeleteRealm(ctx, "renamed"); err != nil {
		t.Fatal(err)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "alice", "other-Alice-1", "", ""); r.Status != 404 {
		t.Errorf("topology of a deleted realm, its old name taken: %d %s", r.Status, r.Raw)
	}
	if top, err := e.knoxSvc.Topology(ctx, "authtkn"); err != nil || top.Realm != "" {
		t.Errorf("topology of a deleted realm = %+v, %v; want no realm name", top, err)
	}
}
