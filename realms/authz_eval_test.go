package realms

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// granted renders a decision as "name:scope,scope" entries, sorted.
func granted(gs []GrantedPermission) []string {
	out := []string{}
	for _, g := range gs {
		sc := slices.Clone(g.Scopes)
		sort.Strings(sc)
		out = append(out, g.ResourceName+":"+strings.Join(sc, ","))
	}
	sort.Strings(out)
	return out
}

func (f *authzFixture) eval(u store.User, reqs ...PermissionRequest) []string {
	f.t.Helper()
	gs, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{UserID: u.ID}, reqs)
	f.check(err)
	return granted(gs)
}

func TestDecisionsFollowAccessModes(t *testing.T) {
	f := newAuthzFixture(t)
	f.olives("pub", AccessPublic)
	f.olives("priv", AccessPrivate)
	f.olives("restr", AccessRestricted, "/teams/ml")
	all := []string{"priv:deploy,read", "pub:deploy,read", "restr:deploy,read"}
	tests := []struct {
		who  store.User
		want []string
	}{
		{f.olive, all},
		{f.adam, all},
		{f.gina, []string{"pub:deploy,read", "restr:deploy,read"}}, // member of a subgroup of /teams/ml
		{f.sam, []string{"pub:deploy,read"}},
		{f.nina, []string{"pub:deploy,read"}},
	}
	for _, tc := range tests {
		t.Run(tc.who.Username, func(t *testing.T) {
			if got := f.eval(tc.who); !slices.Equal(got, tc.want) {
				t.Fatalf("permissions: got %v, want %v", got, tc.want)
			}
			// One resource, one scope, by name.
			got := f.eval(tc.who, PermissionRequest{Resource: "restr", Scopes: []string{"read"}})
			wantOne := slices.Contains(tc.want, "restr:deploy,read")
			if (len(got) == 1) != wantOne {
				t.Fatalf("decision on restr#read: %v, want granted=%v", got, wantOne)
			}
		})
	}
	t.Run("anonymous and unknown subjects get nothing", func(t *testing.T) {
		gs, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{}, nil)
		f.check(err)
		if len(gs) != 0 {
			t.Fatalf("anonymous: %v", granted(gs))
		}
		gs, err = f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{UserID: "deleted-user"}, nil)
		f.check(err)
		if len(gs) != 0 {
			t.Fatalf("unknown user: %v", granted(gs))
		}
	})
	t.Run("the server's service account sees everything", func(t *testing.T) {
		gs, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{ClientID: f.server.ID}, nil)
		f.check(err)
		if got := granted(gs); !slices.Equal(got, all) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("unknown resource", func(t *testing.T) {
		_, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{UserID: f.olive.ID}, []PermissionRequest{{Resource: "nope"}})
		if !errors.Is(err, ErrUnknownResource) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a scope the resource lacks is not granted", func(t *testing.T) {
		if got := f.eval(f.olive, PermissionRequest{Resource: "pub", Scopes: []string{"delete"}}); len(got) != 0 {
			t.Fatalf("got %v", got)
		}
		if got := f.eval(f.olive, PermissionRequest{Resource: "pub", Scopes: []string{"read", "delete"}}); !slices.Equal(got, []string{"pub:read"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("by scope alone", func(t *testing.T) {
		if got := f.eval(f.sam, PermissionRequest{Scopes: []string{"deploy"}}); !slices.Equal(got, []string{"pub:deploy"}) {
			t.Fatalf("got %v", got)
		}
	})
}

func TestDecisionFollowsRoleChangesAtOnce(t *testing.T) {
	f := newAuthzFixture(t)
	f.olives("restr", AccessRestricted, "analyst", "/teams/ml")
	req := PermissionRequest{Resource: "restr", Scopes: []string{"read"}}
	if got := f.eval(f.sam, req); len(got) != 1 {
		t.Fatalf("sam shares analyst: %v", got)
	}
	f.check(f.svc.RevokeRoles(f.ctx, "demo", f.sam.ID, f.analyst.ID))
	if got := f.eval(f.sam, req); len(got) != 0 {
		t.Fatalf("after losing analyst: %v", got)
	}
	f.check(f.svc.GrantRoles(f.ctx, "demo", f.sam.ID, f.analyst.ID))
	if got := f.eval(f.sam, req); len(got) != 1 {
		t.Fatalf("after getting analyst back: %v", got)
	}
	// Through a composite: nina gets analyst inside another role.
	f.check(f.svc.AddComposites(f.ctx, "demo", f.otherRole.ID, f.analyst.ID))
	if got := f.eval(f.nina, req); len(got) != 1 {
		t.Fatalf("analyst through a composite: %v", got)
	}
	f.check(f.svc.RemoveComposites(f.ctx, "demo", f.otherRole.ID, f.analyst.ID))
	if got := f.eval(f.nina, req); len(got) != 0 {
		t.Fatalf("after the composite lost analyst: %v", got)
	}
	// Groups: gina leaves the subgroup.
	if got := f.eval(f.gina, req); len(got) != 1 {
		t.Fatalf("gina in /teams/ml/vision: %v", got)
	}
	f.check(f.svc.LeaveGroup(f.ctx, "demo", f.gina.ID, f.vision.ID))
	if got := f.eval(f.gina, req); len(got) != 0 {
		t.Fatalf("after leaving: %v", got)
	}
	// A disabled user gets nothing, enabled again everything back.
	_, err := f.svc.UpdateUser(f.ctx, "demo", f.sam.ID, func(u *store.User) error { u.Enabled = false; return nil })
	f.check(err)
	if got := f.eval(f.sam); len(got) != 0 {
		t.Fatalf("disabled: %v", got)
	}
	_, err = f.svc.UpdateUser(f.ctx, "demo", f.sam.ID, func(u *store.User) error { u.Enabled = true; return nil })
	f.check(err)
	if got := f.eval(f.sam, req); len(got) != 1 {
		t.Fatalf("enabled again: %v", got)
	}
	// Admin right: adam loses the server's admin role.
	if got := f.eval(f.adam, req); len(got) != 1 {
		t.Fatalf("admin: %v", got)
	}
	adminRole, err := f.svc.RoleByName(f.ctx, f.realm.ID, f.server.ID, AdminRoleName)
	f.check(err)
	f.check(f.svc.RevokeRoles(f.ctx, "demo", f.adam.ID, adminRole.ID))
	if got := f.eval(f.adam, req); len(got) != 0 {
		t.Fatalf("former admin: %v", got)
	}
}

// policyFixture adds, on top of authzFixture, a resource "doc" (scopes
// read, write) owned by the server, which only policies open, and named
// policies.
func policyFixture(t *testing.T) *authzFixture {
	f := newAuthzFixture(t)
	admin := as(f.adam)
	f.create(admin, ResourceInput{Name: "doc", Type: "urn:doc", Scopes: []string{"read", "write"}})
	mk := func(p store.AuthzPolicy) {
		t.Helper()
		_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, p)
		f.check(err)
	}
	mk(store.AuthzPolicy{Name: "analysts", Type: PolicyRole, Roles: []store.AuthzRoleRef{{ID: "analyst"}}})
	mk(store.AuthzPolicy{Name: "not analysts", Type: PolicyRole, Logic: "NEGATIVE", Roles: []store.AuthzRoleRef{{ID: "analyst"}}})
	mk(store.AuthzPolicy{Name: "analyst and ops", Type: PolicyRole, Roles: []store.AuthzRoleRef{{ID: "analyst", Required: true}, {ID: "ops", Required: true}}})
	mk(store.AuthzPolicy{Name: "ml members", Type: PolicyGroup, Groups: []store.AuthzGroupRef{{ID: "/teams/ml"}}})
	mk(store.AuthzPolicy{Name: "ml tree", Type: PolicyGroup, Groups: []store.AuthzGroupRef{{ID: "/teams/ml", ExtendChildren: true}}})
	mk(store.AuthzPolicy{Name: "sam", Type: PolicyUser, UserIDs: []string{"sam"}})
	mk(store.AuthzPolicy{Name: "jobs client", Type: PolicyClient, ClientIDs: []string{"jobs"}})
	mk(store.AuthzPolicy{Name: "sam or ml", Type: PolicyAggregate, DecisionStrategy: "AFFIRMATIVE", PolicyIDs: []string{"sam", "ml members"}})
	mk(store.AuthzPolicy{Name: "sam and ml", Type: PolicyAggregate, DecisionStrategy: "UNANIMOUS", PolicyIDs: []string{"sam", "ml members"}})
	mk(store.AuthzPolicy{Name: "not (sam or ml)", Type: PolicyAggregate, Logic: "NEGATIVE", DecisionStrategy: "AFFIRMATIVE", PolicyIDs: []string{"sam or ml"}})
	mk(store.AuthzPolicy{Name: "two of three", Type: PolicyAggregate, DecisionStrategy: "CONSENSUS", PolicyIDs: []string{"analysts", "ml members", "sam"}})
	return f
}

func TestPolicyLogicAndDecisionStrategies(t *testing.T) {
	// Who holds what: olive analyst+ops, /teams/ml; sam analyst; gina
	// /teams/ml/vision; nina other.
	tests := []struct {
		name     string
		policies []string
		strategy string
		want     map[string]bool // username -> granted doc
	}{
		{"role", []string{"analysts"}, "UNANIMOUS", map[string]bool{"olive": true, "sam": true, "gina": false, "nina": false}},
		{"role negative", []string{"not analysts"}, "UNANIMOUS", map[string]bool{"olive": false, "sam": false, "gina": true, "nina": true}},
		{"required roles", []string{"analyst and ops"}, "UNANIMOUS", map[string]bool{"olive": true, "sam": false, "nina": false}},
		{"group direct", []string{"ml members"}, "UNANIMOUS", map[string]bool{"olive": true, "gina": false, "sam": false}},
		{"group with children", []string{"ml tree"}, "UNANIMOUS", map[string]bool{"olive": true, "gina": true, "sam": false}},
		{"user", []string{"sam"}, "UNANIMOUS", map[string]bool{"sam": true, "olive": false}},
		{"aggregate affirmative", []string{"sam or ml"}, "UNANIMOUS", map[string]bool{"sam": true, "olive": true, "nina": false}},
		{"aggregate unanimous", []string{"sam and ml"}, "UNANIMOUS", map[string]bool{"sam": false, "olive": false}},
		{"aggregate negative", []string{"not (sam or ml)"}, "UNANIMOUS", map[string]bool{"sam": false, "olive": false, "nina": true, "gina": true}},
		{"aggregate consensus", []string{"two of three"}, "UNANIMOUS", map[string]bool{"olive": true, "sam": true, "gina": false}},
		{"permission unanimous", []string{"analysts", "ml members"}, "UNANIMOUS", map[string]bool{"olive": true, "sam": false, "gina": false}},
		{"permission affirmative", []string{"analysts", "ml members"}, "AFFIRMATIVE", map[string]bool{"olive": true, "sam": true, "gina": false, "nina": false}},
		{"permission consensus", []string{"analysts", "ml tree", "sam"}, "CONSENSUS", map[string]bool{"olive": true, "sam": true, "gina": false, "nina": false}},
		{"permission consensus tie denies", []string{"analysts", "not analysts"}, "CONSENSUS", map[string]bool{"olive": false, "nina": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := policyFixture(t)
			_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, as(f.adam), store.AuthzPolicy{
				Name: "perm", Type: PermResource, DecisionStrategy: tc.strategy, ResourceIDs: []string{"doc"}, PolicyIDs: tc.policies})
			f.check(err)
			users := map[string]store.User{"olive": f.olive, "sam": f.sam, "gina": f.gina, "nina": f.nina}
			for name, want := range tc.want {
				got := f.eval(users[name], PermissionRequest{Resource: "doc"})
				if (len(got) == 1) != want {
					t.Errorf("%s: got %v, want granted=%v", name, got, want)
				}
				if want && !slices.Equal(got, []string{"doc:read,write"}) {
					t.Errorf("%s: a resource permission grants every scope, got %v", name, got)
				}
			}
		})
	}
}

func TestScopePermissionsAndServerDecisionStrategy(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		want     map[string][]string // username -> granted
	}{
		// Resource permission: analysts; scope permission on write: ml.
		// UNANIMOUS: write needs both; AFFIRMATIVE: either.
		{"UNANIMOUS", map[string][]string{"olive": {"doc:read,write"}, "sam": {"doc:read"}, "gina": {}, "nina": {}}},
		{"AFFIRMATIVE", map[string][]string{"olive": {"doc:read,write"}, "sam": {"doc:read,write"}, "gina": {"doc:write"}, "nina": {}}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			f := policyFixture(t)
			admin := as(f.adam)
			settings := DefaultAuthzSettings()
			settings.DecisionStrategy = tc.strategy
			_, err := f.svc.UpdateAuthzSettings(f.ctx, f.realm.ID, f.server.ID, admin, settings)
			f.check(err)
			_, err = f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{
				Name: "analysts read", Type: PermResource, ResourceType: "urn:doc", PolicyIDs: []string{"analysts"}})
			f.check(err)
			_, err = f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{
				Name: "ml writes", Type: PermScope, ScopeIDs: []string{"write"}, PolicyIDs: []string{"ml tree"}})
			f.check(err)
			users := map[string]store.User{"olive": f.olive, "sam": f.sam, "gina": f.gina, "nina": f.nina}
			for name, want := range tc.want {
				if got := f.eval(users[name], PermissionRequest{Resource: "doc"}); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("%s: got %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestPolicyEnforcementModes(t *testing.T) {
	for _, tc := range []struct {
		mode          string
		withPerm      bool
		ninaGetsDoc   bool
		ninaGetsOlive bool // olive's private resource
	}{
		{"ENFORCING", false, false, false},
		// Only the server's own resources fall to PERMISSIVE's default:
		// the others have their access mode.
		{"PERMISSIVE", false, true, false},
		{"PERMISSIVE", true, false, false}, // a permission covers doc: it decides
		{"DISABLED", true, true, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f := policyFixture(t)
			f.olives("olives", AccessPrivate)
			admin := as(f.adam)
			settings := DefaultAuthzSettings()
			settings.PolicyEnforcementMode = tc.mode
			_, err := f.svc.UpdateAuthzSettings(f.ctx, f.realm.ID, f.server.ID, admin, settings)
			f.check(err)
			if tc.withPerm {
				_, err = f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{
					Name: "analysts", Type: PermResource, ResourceType: "urn:doc", PolicyIDs: []string{"analysts"}})
				if err == nil || outcome(err) != "conflict" {
					// "analysts" is taken by the policy: names are unique across kinds.
					t.Fatalf("a permission named like a policy: %v", err)
				}
				_, err = f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{
					Name: "doc perm", Type: PermResource, ResourceType: "urn:doc", PolicyIDs: []string{"analysts"}})
				f.check(err)
			}
			got := f.eval(f.nina)
			if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "doc:") }) != tc.ninaGetsDoc {
				t.Errorf("doc: %v, want %v", got, tc.ninaGetsDoc)
			}
			if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "olives:") }) != tc.ninaGetsOlive {
				t.Errorf("olive's private resource: %v, want %v", got, tc.ninaGetsOlive)
			}
		})
	}
}

func TestPolicyValidation(t *testing.T) {
	f := policyFixture(t)
	admin := as(f.adam)
	tests := []struct {
		name   string
		caller AuthzCaller
		p      store.AuthzPolicy
		want   string
	}{
		{"unknown type", admin, store.AuthzPolicy{Name: "x", Type: "js"}, "invalid:type"},
		{"bad logic", admin, store.AuthzPolicy{Name: "x", Type: PolicyUser, Logic: "MAYBE", UserIDs: []string{"sam"}}, "invalid:logic"},
		{"bad strategy", admin, store.AuthzPolicy{Name: "x", Type: PolicyAggregate, DecisionStrategy: "MAJORITY", PolicyIDs: []string{"sam"}}, "invalid:decisionStrategy"},
		{"field of another type", admin, store.AuthzPolicy{Name: "x", Type: PolicyUser, UserIDs: []string{"sam"}, Roles: []store.AuthzRoleRef{{ID: "analyst"}}}, "invalid:roles"},
		{"role policy without roles", admin, store.AuthzPolicy{Name: "x", Type: PolicyRole}, "invalid:roles"},
		{"unknown role", admin, store.AuthzPolicy{Name: "x", Type: PolicyRole, Roles: []store.AuthzRoleRef{{ID: "nope"}}}, "invalid:roles"},
		{"client role by clientId/name", admin, store.AuthzPolicy{Name: "admins", Type: PolicyRole, Roles: []store.AuthzRoleRef{{ID: "models/admin"}}}, "ok"},
		{"unknown group", admin, store.AuthzPolicy{Name: "x", Type: PolicyGroup, Groups: []store.AuthzGroupRef{{ID: "/nope"}}}, "invalid:groups"},
		{"unknown user", admin, store.AuthzPolicy{Name: "x", Type: PolicyUser, UserIDs: []string{"nobody"}}, "invalid:users"},
		{"unknown client", admin, store.AuthzPolicy{Name: "x", Type: PolicyClient, ClientIDs: []string{"nope"}}, "invalid:clients"},
		{"aggregate of nothing", admin, store.AuthzPolicy{Name: "x", Type: PolicyAggregate}, "invalid:policies"},
		{"aggregate of unknown", admin, store.AuthzPolicy{Name: "x", Type: PolicyAggregate, PolicyIDs: []string{"nope"}}, "invalid:policies"},
		{"negative permission", admin, store.AuthzPolicy{Name: "x", Type: PermResource, Logic: "NEGATIVE", ResourceIDs: []string{"doc"}}, "invalid:logic"},
		{"resource permission of nothing", admin, store.AuthzPolicy{Name: "x", Type: PermResource}, "invalid:resources"},
		{"resources and type", admin, store.AuthzPolicy{Name: "x", Type: PermResource, ResourceIDs: []string{"doc"}, ResourceType: "t"}, "invalid:resourceType"},
		{"unknown resource", admin, store.AuthzPolicy{Name: "x", Type: PermResource, ResourceIDs: []string{"nope"}}, "invalid:resources"},
		{"scope permission without scopes", admin, store.AuthzPolicy{Name: "x", Type: PermScope}, "invalid:scopes"},
		{"unknown scope", admin, store.AuthzPolicy{Name: "x", Type: PermScope, ScopeIDs: []string{"fly"}}, "invalid:scopes"},
		{"scope on a resource permission", admin, store.AuthzPolicy{Name: "x", Type: PermResource, ResourceIDs: []string{"doc"}, ScopeIDs: []string{"read"}}, "invalid:scopes"},
		{"duplicate name", admin, store.AuthzPolicy{Name: "sam", Type: PolicyUser, UserIDs: []string{"sam"}}, "conflict"},
		{"non-admin", as(f.olive), store.AuthzPolicy{Name: "y", Type: PolicyUser, UserIDs: []string{"sam"}}, "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, tc.caller, tc.p)
			if got := outcome(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	t.Run("a permission cannot be a policy of another", func(t *testing.T) {
		_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{Name: "perm", Type: PermResource, ResourceIDs: []string{"doc"}})
		f.check(err)
		_, err = f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{Name: "agg", Type: PolicyAggregate, PolicyIDs: []string{"perm"}})
		if outcome(err) != "invalid:policies" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an aggregate cannot contain itself", func(t *testing.T) {
		outer, err := f.svc.ListPolicies(f.ctx, f.realm.ID, f.server.ID, admin, PolicyFilter{Name: "not (sam or ml)"})
		f.check(err)
		inner, err := f.svc.ListPolicies(f.ctx, f.realm.ID, f.server.ID, admin, PolicyFilter{Name: "sam or ml"})
		f.check(err)
		var innerP store.AuthzPolicy
		for _, p := range inner {
			if p.Name == "sam or ml" {
				innerP = p
			}
		}
		innerP.PolicyIDs = append(innerP.PolicyIDs, outer[0].ID)
		_, err = f.svc.UpdatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, innerP.ID, innerP)
		if outcome(err) != "invalid:policies" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("the type of a policy cannot change", func(t *testing.T) {
		ps, err := f.svc.ListPolicies(f.ctx, f.realm.ID, f.server.ID, admin, PolicyFilter{Name: "sam", Type: PolicyUser})
		f.check(err)
		p := ps[0]
		p.Type, p.UserIDs, p.Roles = PolicyRole, nil, []store.AuthzRoleRef{{ID: "analyst"}}
		_, err = f.svc.UpdatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, p.ID, p)
		if outcome(err) != "invalid:type" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a deleted policy grants nothing", func(t *testing.T) {
		f := policyFixture(t) // without the permissions above
		admin := as(f.adam)
		_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, store.AuthzPolicy{Name: "sam doc", Type: PermResource, ResourceIDs: []string{"doc"}, PolicyIDs: []string{"sam"}})
		f.check(err)
		if got := f.eval(f.sam, PermissionRequest{Resource: "doc"}); len(got) != 1 {
			t.Fatalf("before: %v", got)
		}
		ps, err := f.svc.ListPolicies(f.ctx, f.realm.ID, f.server.ID, admin, PolicyFilter{Name: "sam", Type: PolicyUser})
		f.check(err)
		f.check(f.svc.DeletePolicy(f.ctx, f.realm.ID, f.server.ID, admin, ps[0].ID))
		if got := f.eval(f.sam, PermissionRequest{Resource: "doc"}); len(got) != 0 {
			t.Fatalf("after: %v", got)
		}
	})
}

func TestResourceAccessKeyRotation(t *testing.T) {
	f := newAuthzFixture(t)
	model := f.olives("model", AccessRestricted, "analyst")
	info, err := f.svc.ResourceAccessKeyInfo(f.ctx, f.realm.ID, f.server.ID, as(f.olive), model.ID)
	f.check(err)
	if info.Exists {
		t.Fatalf("a new resource has a key: %+v", info)
	}
	if _, _, err := f.svc.CreateResourceAccessKey(f.ctx, f.realm.ID, f.server.ID, as(f.sam), model.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a sharing user made a key: %v", err)
	}
	if _, _, err := f.svc.CreateResourceAccessKey(f.ctx, f.realm.ID, f.server.ID, as(f.nina), model.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a user who cannot see it made a key: %v", err)
	}
	first, info, err := f.svc.CreateResourceAccessKey(f.ctx, f.realm.ID, f.server.ID, as(f.olive), model.ID)
	f.check(err)
	if !info.Exists || info.CreatedAt != f.clock.UnixMilli() || !strings.HasPrefix(first, accessKeyPrefix) {
		t.Fatalf("key %q info %+v", first, info)
	}
	r, err := f.svc.ResolveResourceByAccessKey(f.ctx, f.realm.ID, f.server.ID, first)
	f.check(err)
	if r.ID != model.ID {
		t.Fatalf("resolved %s", r.ID)
	}
	stored, err := f.svc.Store().GetAuthzResource(f.ctx, f.realm.ID, model.ID)
	f.check(err)
	if strings.Contains(stored.AccessKey.Hash, first) || stored.AccessKey.Hash == first {
		t.Fatal("the plaintext key is stored")
	}
	// The key names the resource; the subject's access mode still decides.
	if got := f.eval(f.sam, PermissionRequest{AccessKey: first}); !slices.Equal(got, []string{"model:deploy,read"}) {
		t.Fatalf("sam by key: %v", got)
	}
	if got := f.eval(f.nina, PermissionRequest{AccessKey: first}); len(got) != 0 {
		t.Fatalf("nina by key: %v", got)
	}

	f.clock = f.clock.Add(time.Hour)
	second, info, err := f.svc.CreateResourceAccessKey(f.ctx, f.realm.ID, f.server.ID, as(f.adam), model.ID)
	f.check(err)
	if second == first || info.CreatedAt != f.clock.UnixMilli() {
		t.Fatalf("regenerated %q %+v", second, info)
	}
	for _, k := range []string{first, "ghrk_wrong", "", second + "x"} {
		if _, err := f.svc.ResolveResourceByAccessKey(f.ctx, f.realm.ID, f.server.ID, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key %q: %v", k, err)
		}
		_, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, AuthzSubject{UserID: f.olive.ID}, []PermissionRequest{{AccessKey: k + "z"}})
		if !errors.Is(err, ErrUnknownResource) {
			t.Errorf("decision by key %q: %v", k, err)
		}
	}
	if _, err := f.svc.ResolveResourceByAccessKey(f.ctx, f.realm.ID, f.other.ID, second); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another server's key resolved: %v", err)
	}
	if got := f.eval(f.olive, PermissionRequest{AccessKey: second, Scopes: []string{"read"}}); !slices.Equal(got, []string{"model:read"}) {
		t.Fatalf("olive by the new key: %v", got)
	}
	// An update of other fields keeps the key.
	_, err = f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), model.ID, ResourceInput{Name: "model", Description: "v2", Scopes: []string{"read", "deploy"}})
	f.check(err)
	if _, err := f.svc.ResolveResourceByAccessKey(f.ctx, f.realm.ID, f.server.ID, second); err != nil {
		t.Fatalf("key lost by an update: %v", err)
	}
	info, err = f.svc.ResourceAccessKeyInfo(f.ctx, f.realm.ID, f.server.ID, as(f.olive), model.ID)
	f.check(err)
	if !info.Exists || info.CreatedAt != f.clock.UnixMilli() {
		t.Fatalf("info %+v", info)
	}
}

func TestClientSubjects(t *testing.T) {
	f := newAuthzFixture(t)
	f.olives("pub", AccessPublic)
	f.olives("priv", AccessPrivate)
	noSA, _, err := f.svc.CreateClient(f.ctx, "demo", NewClient{Client: store.Client{ClientID: "nosa", Enabled: true}})
	f.check(err)
	for _, tc := range []struct {
		name    string
		subject AuthzSubject
		want    []string
	}{
		{"another client's service account", AuthzSubject{ClientID: f.other.ID}, []string{"pub:deploy,read"}},
		{"a client without a service account", AuthzSubject{ClientID: noSA.ID}, []string{"pub:deploy,read"}},
		{"a client that does not exist", AuthzSubject{ClientID: "gone"}, []string{}},
		{"the resource server", AuthzSubject{ClientID: f.server.ID}, []string{"priv:deploy,read", "pub:deploy,read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs, err := f.svc.Evaluate(f.ctx, f.realm.ID, f.server.ID, tc.subject, nil)
			f.check(err)
			if got := granted(gs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The listing of every resource is cached by generation: creates, access
// changes and deletes show in the very next decision, whether the server's
// list is cached or too long to be.
func TestPermissionsListFollowsResourceWrites(t *testing.T) {
	for _, limit := range []int{20000, 1} {
		t.Run(fmt.Sprint("cache limit ", limit), func(t *testing.T) {
			defer func(old int) { maxCachedResources = old }(maxCachedResources)
			maxCachedResources = limit
			f := newAuthzFixture(t)
			f.olives("first", AccessPublic)
			f.olives("second", AccessPublic)
			if got := f.eval(f.nina); len(got) != 2 {
				t.Fatalf("before: %v", got)
			}
			third := f.olives("third", AccessPublic)
			if got := f.eval(f.nina); len(got) != 3 {
				t.Fatalf("after a create: %v", got)
			}
			_, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), third.ID,
				ResourceInput{Name: "third", Scopes: []string{"read", "deploy"}, AccessMode: AccessPrivate})
			f.check(err)
			if got := f.eval(f.nina); len(got) != 2 {
				t.Fatalf("after making one private: %v", got)
			}
			f.check(f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), third.ID))
			if got := f.eval(f.olive); !slices.Equal(got, []string{"first:deploy,read", "second:deploy,read"}) {
				t.Fatalf("after a delete: %v", got)
			}
		})
	}
}

// A policy naming a user, client, resource or scope that does not exist
// (by ID or name) is refused with the field that names it, and nothing is
// stored.
func TestPolicyReferenceToNothingIsInvalid(t *testing.T) {
	f := policyFixture(t)
	admin := as(f.adam)
	for _, tc := range []struct {
		name  string
		p     store.AuthzPolicy
		field string
	}{
		{"user", store.AuthzPolicy{Type: PolicyUser, UserIDs: []string{"sam", "nobody"}}, "users"},
		{"client", store.AuthzPolicy{Type: PolicyClient, ClientIDs: []string{"no-client"}}, "clients"},
		{"resource", store.AuthzPolicy{Type: PermResource, ResourceIDs: []string{"doc", "no-doc"}}, "resources"},
		{"scope", store.AuthzPolicy{Type: PermScope, ScopeIDs: []string{"read", "no-scope"}}, "scopes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Name = "refers to nothing: " + tc.name
			_, err := f.svc.CreatePolicy(f.ctx, f.realm.ID, f.server.ID, admin, tc.p)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tc.field)
			}
			if ps, err := f.svc.ListPolicies(f.ctx, f.realm.ID, f.server.ID, admin, PolicyFilter{Name: tc.p.Name}); err != nil || len(ps) != 0 {
				t.Fatalf("a refused policy was stored: %v %v", ps, err)
			}
		})
	}
}
