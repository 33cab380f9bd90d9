package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

func (e *env) addUser(name, password string) store.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), "demo", realms.NewUser{User: store.User{Username: name, Enabled: true}, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// grantRealmManagement gives a user a role of the realm-management client.
func (e *env) grantRealmManagement(userID, role string) {
	e.t.Helper()
	ctx := context.Background()
	realmID := mustRealmID(e.t, e)
	rm, err := e.store.GetClientByClientID(ctx, realmID, realms.RealmManagementClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.store.GetRoleByName(ctx, realmID, rm.ID, role)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.GrantRoles(ctx, "demo", userID, r.ID); err != nil {
		e.t.Fatal(err)
	}
}

// issueKnox gets a Knox token at a Basic topology with a password.
func (e *env) issueKnox(topology, user, password string) response {
	e.t.Helper()
	r := e.knox(http.MethodPost, e.gateway(topology, "token"), user, password, "", "")
	if r.status != 200 {
		e.t.Fatalf("issue at %s for %s: %d %s", topology, user, r.status, r.raw)
	}
	return r
}

func (e *env) introspectActive(token string) bool {
	e.t.Helper()
	return e.post("token/introspect", url.Values{"token": {token}}, "app", e.secret).body["active"] == true
}

// A Knox token follows the state of the user it was issued to: once the
// user is disabled, deleted, or behind a user or realm not-before, the token
// is inactive at once wherever it is presented (introspection, passcode
// login, Basic Token:, a bearer topology, token exchange), managed or not.
func TestKnoxTokenFollowsItsUserState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(e *env, u store.User) error
	}{
		{"user disabled", func(e *env, u store.User) error {
			_, err := e.svc.UpdateUser(ctx, "demo", u.ID, func(u *store.User) error { u.Enabled = false; return nil })
			return err
		}},
		{"user deleted", func(e *env, u store.User) error { return e.svc.DeleteUser(ctx, "demo", u.ID) }},
		{"user not-before", func(e *env, u store.User) error {
			_, err := e.svc.UpdateUser(ctx, "demo", u.ID, func(u *store.User) error {
				u.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})
			return err
		}},
		{"realm not-before", func(e *env, _ store.User) error {
			_, err := e.svc.UpdateRealm(ctx, "demo", func(r *store.Realm) error {
				r.NotBefore = time.Now().Add(time.Minute).Unix()
				return nil
			})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, secret, _ := exchangeEnv(t)
			dave := e.addUser("dave", "dave-Pass-1")
			e.putTopology(store.Topology{Name: "authtkn", Realm: "demo", Authentication: "basic", TTL: "PT1H", Managed: true,
				Audiences: []string{"exchanger"}})
			e.putTopology(store.Topology{Name: "plain", Realm: "demo", Authentication: "basic", TTL: "PT1H", Audiences: []string{"exchanger"}})
			e.putTopology(store.Topology{Name: "bearer", Realm: "demo", Authentication: "bearer", TTL: "PT1H"})
			managed := e.issueKnox("authtkn", "dave", "dave-Pass-1")
			unmanaged := e.issueKnox("plain", "dave", "dave-Pass-1").str("access_token")
			jwt, passcode := managed.str("access_token"), managed.str("passcode")

			uses := map[string]func() int{
				"introspection": func() int {
					if e.introspectActive(jwt) {
						return 200
					}
					return 401
				},
				"introspection (unmanaged)": func() int {
					if e.introspectActive(unmanaged) {
						return 200
					}
					return 401
				},
				"passcode login": func() int {
					return e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", passcode, "", "").status
				},
				"Basic Token:": func() int {
					return e.knox(http.MethodGet, e.gateway("plain", "token"), "Token", jwt, "", "").status
				},
				"Basic Token: (unmanaged)": func() int {
					return e.knox(http.MethodGet, e.gateway("plain", "token"), "Token", unmanaged, "", "").status
				},
				"bearer topology": func() int {
					return e.knox(http.MethodGet, e.gateway("bearer", "token"), "", "", jwt, "").status
				},
				"bearer topology (unmanaged)": func() int {
					return e.knox(http.MethodGet, e.gateway("bearer", "token"), "", "", unmanaged, "").status
				},
				"token exchange": func() int {
					r := e.exchange(secret, url.Values{"subject_token": {jwt}, "subject_token_type": {teJWT}})
					if r.status != 200 && r.str("error") != "invalid_token" {
						t.Errorf("exchange refused with %s, want invalid_token as for any inactive token", r.raw)
					}
					return r.status
				},
				"token exchange (unmanaged)": func() int {
					return e.exchange(secret, url.Values{"subject_token": {unmanaged}, "subject_token_type": {teJWT}}).status
				},
			}
			for name, use := range uses {
				if got := use(); got != 200 {
					t.Fatalf("%s before the change: %d", name, got)
				}
			}
			if err := tc.change(e, dave); err != nil {
				t.Fatal(err)
			}
			for name, use := range uses {
				if got := use(); got == 200 {
					t.Errorf("%s after %s: still accepted", name, tc.name)
				}
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
	oldJWT, oldID, oldPasscode := old.str("access_token"), old.str("token_id"), old.str("passcode")
	if err := e.svc.DeleteUser(ctx, "demo", e.alice.ID); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", alicePassword)

	for _, q := range []string{"", "?userName=alice", "?createdBy=alice", "?userNameOrCreatedBy=alice"} {
		r := e.knox(http.MethodGet, e.gateway("authtkn", "getUserTokens")+q, "alice", alicePassword, "", "")
		if toks, _ := r.body["tokens"].([]any); r.status != 200 || len(toks) != 0 {
			t.Errorf("new alice lists %q: %d %s", q, r.status, r.raw)
		}
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", oldPasscode, "", ""); r.status != 401 {
		t.Errorf("old alice's passcode logs in: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Token", oldJWT, "", ""); r.status != 401 {
		t.Errorf("old alice's token logs in: %d %s", r.status, r.raw)
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
		if r.status != 403 || r.str(op.flag) != "false" || r.body["code"] != float64(20) {
			t.Errorf("new alice %s old alice's token: %d %s", op.path, r.status, r.raw)
		}
	}
	// The old token (still stored until it expires) is not the new alice's.
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token"), "alice", alicePassword, "", ""); r.status != 200 {
		t.Errorf("new alice's first token refused by the per-user limit: %d %s", r.status, r.raw)
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
	jwt, passcode := tok.str("access_token"), tok.str("passcode")
	sibling := e.issueKnox("authtkn", "alice", alicePassword)

	for _, c := range []struct {
		name, topology, user, pass string
		status                     int
		code                       float64
	}{
		{"the token itself as Basic Token:", "authtkn", "Token", jwt, 403, 20},
		{"the token's own passcode", "authtkn", "Passcode", passcode, 403, 20},
		{"another token of the owner", "authtkn", "Token", sibling.str("access_token"), 403, 20},
		{"another token's passcode of the owner", "authtkn", "Passcode", sibling.str("passcode"), 403, 20},
		{"a renewer of another topology, there", "other", "renewer-b", "renew-Pass-2", 403, 20},
		{"a renewer of another topology, here", "authtkn", "renewer-b", "renew-Pass-2", 403, 20},
		{"the topology's renewer", "authtkn", "renewer", "renew-Pass-1", 200, 0},
		{"the owner by password", "authtkn", "alice", alicePassword, 200, 0},
	} {
		r := e.knox(http.MethodPost, e.gateway(c.topology, "token/renew"), c.user, c.pass, "", jwt)
		if r.status != c.status || (c.status != 200 && (r.str("renewed") != "false" || r.body["code"] != c.code)) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
	if r := e.knox(http.MethodPost, e.gateway("other", "token/revoke"), "renewer-b", "renew-Pass-2", "", tok.str("token_id")); r.status != 403 {
		t.Errorf("a renewer of another topology revokes: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodPut, e.gateway("authtkn", "token/disable"), "alice", alicePassword, "", tok.str("token_id")); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	for _, who := range [][2]string{{"renewer", "renew-Pass-1"}, {"alice", alicePassword}} {
		if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), who[0], who[1], "", jwt); r.status != 400 || r.str("renewed") != "false" || r.body["code"] != float64(40) {
			t.Errorf("%s renews a disabled token: %d %s", who[0], r.status, r.raw)
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
	id := e.issueKnox("authtkn", "alice", alicePassword).str("token_id")
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
		if r.status != step.status || (step.status != 200 && (r.str("setEnabledFlag") != "false" || r.body["code"] != step.code)) {
			t.Fatalf("%s by %s: %d %s, want %d code %v", step.op, step.user, r.status, r.raw, step.status, step.code)
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
	if _, err := e.store.UpdateKnoxToken(context.Background(), mustRealmID(t, e), tok.str("token_id"), func(k *store.KnoxToken) error {
		k.UserID, k.CreatedByID = "", ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if e.introspectActive(tok.str("access_token")) {
		t.Error("ownerless token active at introspection")
	}
	if r := e.knox(http.MethodGet, e.gateway("authtkn", "token"), "Passcode", tok.str("passcode"), "", ""); r.status != 401 {
		t.Errorf("ownerless token's passcode: %d %s", r.status, r.raw)
	}
	if r := e.knox(http.MethodPost, e.gateway("authtkn", "token/revoke"), "alice", alicePassword, "", tok.str("token_id")); r.status != 403 {
		t.Errorf("alice revokes an ownerless token by its name: %d %s", r.status, r.raw)
	}
}

// A subject of an external issuer with no realm user gets no Knox token at a
// bearer topology, so no token can exist that a realm user created later
// under that name could inherit; and the later user is no link either: the
// provider's token still speaks for nobody.
func TestKnoxTokenOfNoUserNeverMapsToALaterUser(t *testing.T) {
	e, _, ext := exchangeEnv(t)
	e.putTopology(store.Topology{Name: "cdptkn", Realm: "demo", Authentication: "bearer", TTL: "PT1H", Audiences: []string{"exchanger"}})
	for _, when := range []string{"before", "after"} {
		if when == "after" {
			e.addUser("carol", "carol-Pass-1")
		}
		r := e.knox(http.MethodGet, e.gateway("cdptkn", "token"), "", "", ext.token(t, "carol", time.Minute), "")
		if r.status != 401 || r.str("error_description") != "No user found" {
			t.Errorf("external carol %s a realm user carol exists: %d %s", when, r.status, r.raw)
		}
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
	jwt := e.issueKnox("authtkn", "alice", alicePassword).str("access_token")
	renew := func() response {
		return e.knox(http.MethodPost, e.gateway("authtkn", "token/renew"), "renewer", "renew-Pass-1", "", jwt)
	}
	if r := renew(); r.status != 200 {
		t.Fatalf("renewer: %d %s", r.status, r.raw)
	}
	if err := e.svc.DeleteUser(ctx, "demo", renewer.ID); err != nil {
		t.Fatal(err)
	}
	e.addUser("renewer", "renew-Pass-1")
	if r := renew(); r.status != 403 || r.body["code"] != float64(20) {
		t.Errorf("a later user named like the deleted renewer renews: %d %s", r.status, r.raw)
	}
	e.putTopology(topo)
	if r := renew(); r.status != 200 {
		t.Errorf("renewer after the topology was saved again: %d %s", r.status, r.raw)
	}
}
