package realms

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
)

// authzFixture is realm "demo" with resource server "models" and:
//   - olive, the owner of the resources under test: realm roles analyst
//     and ops, member of /teams/ml;
//   - adam, holding the server's client role "admin";
//   - sam, sharing analyst with olive;
//   - gina, a member of /teams/ml/vision (a subgroup of olive's group);
//   - nina, sharing nothing (realm role other).
type authzFixture struct {
	t                       *testing.T
	ctx                     context.Context
	svc                     *Service
	realm                   store.Realm
	server, other           store.Client
	olive, adam, sam, gina  store.User
	nina                    store.User
	analyst, ops, otherRole store.Role
	teams, ml, vision       store.Group
	clock                   time.Time
}

func newAuthzFixture(t *testing.T) *authzFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "authz.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, _ := NewSealer(make([]byte, 32))
	f := &authzFixture{t: t, ctx: context.Background(), clock: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = NewService(st, sealer, func() time.Time { return f.clock })
	ctx := f.ctx
	f.realm = f.must1(f.svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})).(store.Realm)
	settings := DefaultAuthzSettings()
	f.server, _, err = f.svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "models", Enabled: true,
		ServiceAccountsEnabled: true, Authorization: &settings}})
	f.check(err)
	f.other, _, err = f.svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "jobs", Enabled: true,
		ServiceAccountsEnabled: true}})
	f.check(err)
	f.analyst = f.role("analyst", "")
	f.ops = f.role("ops", "")
	f.otherRole = f.role("other", "")
	adminRole := f.role(AdminRoleName, f.server.ID)
	f.teams = f.must1(f.svc.CreateGroup(ctx, "demo", store.Group{Name: "teams"})).(store.Group)
	f.ml = f.must1(f.svc.CreateGroup(ctx, "demo", store.Group{Name: "ml", ParentID: f.teams.ID})).(store.Group)
	f.vision = f.must1(f.svc.CreateGroup(ctx, "demo", store.Group{Name: "vision", ParentID: f.ml.ID})).(store.Group)
	f.olive = f.user("olive", f.analyst.ID, f.ops.ID)
	f.check(f.svc.JoinGroup(ctx, "demo", f.olive.ID, f.ml.ID))
	f.adam = f.user("adam", adminRole.ID)
	f.sam = f.user("sam", f.analyst.ID)
	f.gina = f.user("gina")
	f.check(f.svc.JoinGroup(ctx, "demo", f.gina.ID, f.vision.ID))
	f.nina = f.user("nina", f.otherRole.ID)
	return f
}

func (f *authzFixture) check(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *authzFixture) must1(v any, err error) any {
	f.t.Helper()
	f.check(err)
	return v
}

func (f *authzFixture) role(name, clientID string) store.Role {
	f.t.Helper()
	r, err := f.svc.CreateRole(f.ctx, "demo", store.Role{Name: name, ClientID: clientID})
	f.check(err)
	return r
}

func (f *authzFixture) user(name string, roles ...string) store.User {
	f.t.Helper()
	u, err := f.svc.CreateUser(f.ctx, "demo", NewUser{User: store.User{Username: name, Enabled: true}})
	f.check(err)
	if len(roles) > 0 {
		f.check(f.svc.GrantRoles(f.ctx, "demo", u.ID, roles...))
	}
	return u
}

func as(u store.User) AuthzCaller { return AuthzCaller{UserID: u.ID} }

// create makes a resource as caller.
func (f *authzFixture) create(caller AuthzCaller, in ResourceInput) store.AuthzResource {
	f.t.Helper()
	r, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, caller, in)
	f.check(err)
	return r
}

func (f *authzFixture) olives(name, mode string, backendRoles ...string) store.AuthzResource {
	f.t.Helper()
	in := ResourceInput{Name: name, AccessMode: mode, Scopes: []string{"read", "deploy"}}
	if mode == AccessRestricted {
		in.BackendRoles = backendRoles
	}
	return f.create(as(f.olive), in)
}

// outcome names an error class for table comparisons.
func outcome(err error) string {
	var ve *ValidationError
	var se *StateError
	var ce *store.ConflictError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, store.ErrNotFound):
		return "notfound"
	case errors.As(err, &ve):
		return "invalid:" + ve.Field
	case errors.As(err, &se):
		return "state"
	case errors.As(err, &ce):
		return "conflict"
	}
	return err.Error()
}

func TestAccessModeMatrix(t *testing.T) {
	f := newAuthzFixture(t)
	callers := map[string]AuthzCaller{
		"owner":     as(f.olive),
		"admin":     as(f.adam),
		"sharing":   as(f.sam),
		"subgroup":  as(f.gina),
		"nonshared": as(f.nina),
		"anonymous": {},
	}
	actions := map[string]func(c AuthzCaller, r store.AuthzResource) error{
		"read": func(c AuthzCaller, r store.AuthzResource) error {
			_, err := f.svc.GetResource(f.ctx, f.realm.ID, f.server.ID, c, r.ID)
			return err
		},
		"update-access": func(c AuthzCaller, r store.AuthzResource) error {
			// Always a real change of mode.
			mode := AccessPrivate
			if r.AccessMode == AccessPrivate {
				mode = AccessPublic
			}
			_, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, c, r.ID,
				ResourceInput{Name: r.Name, Scopes: []string{"read", "deploy"}, AccessMode: mode})
			return err
		},
		"update-name": func(c AuthzCaller, r store.AuthzResource) error {
			_, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, c, r.ID,
				ResourceInput{Name: r.Name + "-renamed", Description: "new", Scopes: []string{"read", "deploy"}})
			return err
		},
		"delete": func(c AuthzCaller, r store.AuthzResource) error {
			return f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, c, r.ID)
		},
	}
	// want[caller][mode][action]; restricted resources are shared with
	// analyst and /teams/ml.
	all := map[string]string{"read": "ok", "update-access": "ok", "update-name": "ok", "delete": "ok"}
	hidden := map[string]string{"read": "notfound", "update-access": "notfound", "update-name": "notfound", "delete": "notfound"}
	readOnly := map[string]string{"read": "ok", "update-access": "forbidden", "update-name": "forbidden", "delete": "forbidden"}
	sharer := map[string]string{"read": "ok", "update-access": "forbidden", "update-name": "ok", "delete": "forbidden"}
	want := map[string]map[string]map[string]string{
		"owner":     {AccessPublic: all, AccessPrivate: all, AccessRestricted: all},
		"admin":     {AccessPublic: all, AccessPrivate: all, AccessRestricted: all},
		"sharing":   {AccessPublic: readOnly, AccessPrivate: hidden, AccessRestricted: sharer},
		"subgroup":  {AccessPublic: readOnly, AccessPrivate: hidden, AccessRestricted: sharer},
		"nonshared": {AccessPublic: readOnly, AccessPrivate: hidden, AccessRestricted: hidden},
		"anonymous": {AccessPublic: hidden, AccessPrivate: hidden, AccessRestricted: hidden},
	}
	n := 0
	for callerName, caller := range callers {
		for _, mode := range []string{AccessPublic, AccessPrivate, AccessRestricted} {
			for action, do := range actions {
				n++
				name := callerName + "/" + mode + "/" + action
				t.Run(name, func(t *testing.T) {
					r := f.olives(name, mode, "analyst", "/teams/ml")
					got := outcome(do(caller, r))
					if got != want[callerName][mode][action] {
						t.Fatalf("got %s, want %s", got, want[callerName][mode][action])
					}
					// A refused change changed nothing.
					after, err := f.svc.GetResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), r.ID)
					switch {
					case got != "ok" && err != nil:
						t.Fatalf("refused %s lost the resource: %v", action, err)
					case got != "ok" && !resourceEqual(after, r):
						t.Fatalf("refused %s changed the resource:\n%+v\n%+v", action, r, after)
					case got == "ok" && action == "delete" && !errors.Is(err, store.ErrNotFound):
						t.Fatalf("deleted resource still there: %v", err)
					}
				})
			}
		}
	}
	if n != 6*3*4 {
		t.Fatalf("matrix has %d cells", n)
	}
}

func TestAccessModeValidationRules(t *testing.T) {
	f := newAuthzFixture(t)
	sa, err := f.svc.ServiceAccount(f.ctx, f.realm.ID, f.server)
	f.check(err)
	server := AuthzCaller{ClientID: f.server.ID}
	tests := []struct {
		name   string
		caller AuthzCaller
		in     ResourceInput
		want   string
	}{
		{"no mode is private", as(f.olive), ResourceInput{Name: "a"}, "ok"},
		{"unknown mode", as(f.olive), ResourceInput{Name: "b", AccessMode: "secret"}, "invalid:access_mode"},
		{"backend roles with public", as(f.olive), ResourceInput{Name: "c", AccessMode: AccessPublic, BackendRoles: []string{"analyst"}}, "invalid:backend_roles"},
		{"backend roles with no mode", as(f.olive), ResourceInput{Name: "c2", BackendRoles: []string{"analyst"}}, "invalid:backend_roles"},
		{"add all with private", as(f.olive), ResourceInput{Name: "c3", AccessMode: AccessPrivate, AddAllBackendRoles: true}, "invalid:backend_roles"},
		{"restricted without roles", as(f.olive), ResourceInput{Name: "d", AccessMode: AccessRestricted}, "invalid:backend_roles"},
		{"restricted with both", as(f.olive), ResourceInput{Name: "e", AccessMode: AccessRestricted, BackendRoles: []string{"analyst"}, AddAllBackendRoles: true}, "invalid:backend_roles"},
		{"role not the owner's", as(f.olive), ResourceInput{Name: "f", AccessMode: AccessRestricted, BackendRoles: []string{"other"}}, "invalid:backend_roles"},
		{"subgroup of the owner's group is not the owner's", as(f.olive), ResourceInput{Name: "f2", AccessMode: AccessRestricted, BackendRoles: []string{"/teams/ml/vision"}}, "invalid:backend_roles"},
		{"parent of the owner's group is the owner's", as(f.olive), ResourceInput{Name: "f3", AccessMode: AccessRestricted, BackendRoles: []string{"/teams"}}, "ok"},
		{"unknown role", as(f.olive), ResourceInput{Name: "g", AccessMode: AccessRestricted, BackendRoles: []string{"nope"}}, "invalid:backend_roles"},
		{"owner adds all", as(f.olive), ResourceInput{Name: "h", AccessMode: AccessRestricted, AddAllBackendRoles: true}, "ok"},
		{"admin not owner cannot add all", as(f.adam), ResourceInput{Name: "i", Owner: "olive", AccessMode: AccessRestricted, AddAllBackendRoles: true}, "invalid:add_all_backend_roles"},
		{"admin names the owner's roles", as(f.adam), ResourceInput{Name: "j", Owner: "olive", AccessMode: AccessRestricted, BackendRoles: []string{"ops"}}, "ok"},
		{"server adds all for the owner", server, ResourceInput{Name: "k", Owner: f.olive.ID, AccessMode: AccessRestricted, AddAllBackendRoles: true}, "ok"},
		{"server's account adds all for the owner", as(sa), ResourceInput{Name: "k2", Owner: "olive", AccessMode: AccessRestricted, AddAllBackendRoles: true}, "ok"},
		{"user cannot create for another", as(f.sam), ResourceInput{Name: "l", Owner: "olive"}, "forbidden"},
		{"anonymous cannot create", AuthzCaller{}, ResourceInput{Name: "m"}, "forbidden"},
		{"name required", as(f.olive), ResourceInput{Name: " "}, "invalid:name"},
		{"unknown owner", as(f.adam), ResourceInput{Name: "n", Owner: "nobody"}, "invalid:owner"},
		{"owner with nothing to add", as(f.adam), ResourceInput{Name: "o", Owner: "adam", AccessMode: AccessRestricted, AddAllBackendRoles: true}, "invalid:add_all_backend_roles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, tc.caller, tc.in)
			if got := outcome(err); got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
			if err == nil && tc.in.AccessMode == "" && r.AccessMode != AccessPrivate {
				t.Fatalf("mode %q, want private", r.AccessMode)
			}
		})
	}

	t.Run("add all takes the owner's own roles and groups", func(t *testing.T) {
		r, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), ResourceInput{Name: "all", AccessMode: AccessRestricted, AddAllBackendRoles: true})
		f.check(err)
		names, err := f.svc.BackendRoleNames(f.ctx, f.realm.ID, r.BackendRoles)
		f.check(err)
		sort.Strings(names)
		if !slices.Equal(names, []string{"/teams/ml", "analyst", "ops"}) {
			t.Fatalf("backend roles %v", names)
		}
	})
	t.Run("names are unique per server", func(t *testing.T) {
		f.create(as(f.olive), ResourceInput{Name: "dup"})
		_, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), ResourceInput{Name: "dup"})
		if outcome(err) != "conflict" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a resource with children cannot be deleted", func(t *testing.T) {
		group := f.create(as(f.olive), ResourceInput{Name: "group"})
		model := f.create(as(f.olive), ResourceInput{Name: "model", ParentID: group.ID})
		if err := f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), group.ID); outcome(err) != "state" {
			t.Fatalf("got %v, want a 409 state error", err)
		}
		f.check(f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), model.ID))
		f.check(f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), group.ID))
	})
	t.Run("a refused create leaves no scopes behind", func(t *testing.T) {
		_, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive),
			ResourceInput{Name: "x", Scopes: []string{"leftover"}, AccessMode: AccessRestricted, BackendRoles: []string{"other"}})
		if outcome(err) != "invalid:backend_roles" {
			t.Fatalf("got %v", err)
		}
		if scopes, _ := f.svc.ListScopes(f.ctx, f.realm.ID, f.server.ID, "leftover", store.Page{}); len(scopes) != 0 {
			t.Fatalf("scopes left: %v", scopes)
		}
	})
	t.Run("a parent the caller cannot see is unknown", func(t *testing.T) {
		group := f.create(as(f.olive), ResourceInput{Name: "hidden-group"})
		_, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), ResourceInput{Name: "x", ParentID: group.ID})
		if outcome(err) != "invalid:parentId" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a sharing user cannot change more than name and description", func(t *testing.T) {
		r := f.olives("shared", AccessRestricted, "analyst")
		_, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), r.ID,
			ResourceInput{Name: "shared", Type: "model", Scopes: []string{"read", "deploy"}})
		if outcome(err) != "forbidden" {
			t.Fatalf("type change by a sharer: %v", err)
		}
		_, err = f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), r.ID,
			ResourceInput{Name: "shared", Scopes: []string{"read", "deploy", "invented"}})
		if outcome(err) != "forbidden" {
			t.Fatalf("new scope by a sharer: %v", err)
		}
		scopes, err := f.svc.ListScopes(f.ctx, f.realm.ID, f.server.ID, "invented", store.Page{})
		f.check(err)
		if len(scopes) != 0 {
			t.Fatalf("a refused update created scopes: %v", scopes)
		}
		_, err = f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), r.ID,
			ResourceInput{Name: "shared", Scopes: []string{"read", "deploy"}, AccessMode: AccessRestricted, BackendRoles: []string{"analyst"}})
		if err != nil {
			t.Fatalf("restating the same access fields is no change: %v", err)
		}
	})
	t.Run("update keeps access fields that are not given", func(t *testing.T) {
		r := f.olives("keep", AccessRestricted, "ops")
		up, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), r.ID, ResourceInput{Name: "keep", Description: "d"})
		f.check(err)
		if up.AccessMode != AccessRestricted || !slices.Equal(up.BackendRoles, r.BackendRoles) || up.OwnerID != f.olive.ID {
			t.Fatalf("access fields changed: %+v", up)
		}
		_, err = f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), r.ID, ResourceInput{Name: "keep", AccessMode: AccessPublic})
		f.check(err)
		_, err = f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.olive), r.ID, ResourceInput{Name: "keep", AccessMode: AccessRestricted})
		if outcome(err) != "invalid:backend_roles" {
			t.Fatalf("restricted without roles on update: %v", err)
		}
	})
	t.Run("a non-resource-server client has no resources", func(t *testing.T) {
		_, err := f.svc.CreateResource(f.ctx, f.realm.ID, f.other.ID, as(f.olive), ResourceInput{Name: "x"})
		if outcome(err) != "notfound" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestListResourcesShowsOnlyWhatTheCallerMaySee(t *testing.T) {
	f := newAuthzFixture(t)
	f.olives("pub", AccessPublic)
	f.olives("priv", AccessPrivate)
	f.olives("restr", AccessRestricted, "analyst")
	f.create(as(f.nina), ResourceInput{Name: "ninas", Type: "model", URIs: []string{"/models/ninas"}})
	tests := []struct {
		caller AuthzCaller
		filter ResourceFilter
		want   []string
	}{
		{as(f.olive), ResourceFilter{}, []string{"priv", "pub", "restr"}},
		{as(f.adam), ResourceFilter{}, []string{"ninas", "priv", "pub", "restr"}},
		{AuthzCaller{ClientID: f.server.ID}, ResourceFilter{}, []string{"ninas", "priv", "pub", "restr"}},
		{as(f.sam), ResourceFilter{}, []string{"pub", "restr"}},
		{as(f.nina), ResourceFilter{}, []string{"ninas", "pub"}},
		{AuthzCaller{}, ResourceFilter{}, []string{}},
		{as(f.adam), ResourceFilter{Owner: "olive"}, []string{"priv", "pub", "restr"}},
		{as(f.adam), ResourceFilter{Owner: "nobody"}, []string{}},
		{as(f.adam), ResourceFilter{Name: "PR"}, []string{"priv"}},
		{as(f.adam), ResourceFilter{Name: "pub", ExactName: true}, []string{"pub"}},
		{as(f.adam), ResourceFilter{Type: "model"}, []string{"ninas"}},
		{as(f.adam), ResourceFilter{URI: "/models"}, []string{"ninas"}},
		{as(f.adam), ResourceFilter{Scope: "deploy"}, []string{"priv", "pub", "restr"}},
		{as(f.adam), ResourceFilter{Page: store.Page{First: 1, Max: 2}}, []string{"priv", "pub"}},
	}
	for _, tc := range tests {
		got, err := f.svc.ListResources(f.ctx, f.realm.ID, f.server.ID, tc.caller, tc.filter)
		f.check(err)
		var names []string
		for _, r := range got {
			names = append(names, r.Name)
		}
		if !slices.Equal(names, tc.want) && !(len(names) == 0 && len(tc.want) == 0) {
			t.Errorf("%+v %+v: got %v, want %v", tc.caller, tc.filter, names, tc.want)
		}
	}
}

func TestDeletedOwnersResourcesStayForAdmins(t *testing.T) {
	f := newAuthzFixture(t)
	priv := f.olives("priv", AccessPrivate)
	restr := f.olives("restr", AccessRestricted, "analyst")
	f.check(f.svc.DeleteUser(f.ctx, "demo", f.olive.ID))
	if _, err := f.svc.GetResource(f.ctx, f.realm.ID, f.server.ID, as(f.adam), priv.ID); err != nil {
		t.Fatalf("admin lost the private resource: %v", err)
	}
	if got := f.eval(f.sam, PermissionRequest{Resource: restr.ID}); len(got) != 1 {
		t.Fatalf("the restricted resource stays shared: %v", got)
	}
	if err := f.svc.DeleteResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), restr.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a sharer deleted an orphan: %v", err)
	}
	up, err := f.svc.UpdateResource(f.ctx, f.realm.ID, f.server.ID, as(f.adam), priv.ID, ResourceInput{Name: "priv", Owner: "sam", Scopes: []string{"read", "deploy"}})
	f.check(err)
	if up.OwnerID != f.sam.ID {
		t.Fatalf("owner %s", up.OwnerID)
	}
	if _, err := f.svc.GetResource(f.ctx, f.realm.ID, f.server.ID, as(f.sam), priv.ID); err != nil {
		t.Fatalf("the new owner: %v", err)
	}
}
