package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/store"
)

// authzTests are the authorization-services cases.
var authzTests = []conformanceTest{
	{"AuthzResourcesUniqueNamePerServerAndIndexes", testAuthzResources},
	{"AuthzResourceParentsRefuseDeleteAndCycles", testAuthzResourceParents},
	{"AuthzResourceAccessKeyRotation", testAuthzAccessKey},
	{"AuthzScopesAndPoliciesCRUD", testAuthzScopesPolicies},
	{"AuthzGoneWithTheServerAndRealm", testAuthzCascade},
	{"AuthzConcurrentNameClaimsAndKeyRotations", testAuthzConcurrent},
	{"AuthzRecordsAreCopiesAndAbortedUpdatesChangeNothing", testAuthzCopies},
	{"AuthzResourceMovesOnlyUnderItsServersResources", testAuthzResourceMoves},
	{"AuthzRecordsNeedTheirServersClient", testAuthzNeedServer},
}

func resourceServers(t *testing.T, s store.Store) (store.Realm, store.Client, store.Client) {
	t.Helper()
	r := mustRealm(t, s, "authz")
	a := store.Client{ID: id("client"), ClientID: "models", Enabled: true, CreatedAt: clock(),
		Authorization: &store.AuthzSettings{PolicyEnforcementMode: "ENFORCING", DecisionStrategy: "UNANIMOUS"}}
	b := store.Client{ID: id("client"), ClientID: "jobs", Enabled: true, CreatedAt: clock(),
		Authorization: &store.AuthzSettings{PolicyEnforcementMode: "PERMISSIVE", DecisionStrategy: "AFFIRMATIVE", AllowRemoteResourceManagement: true}}
	must(t, s.CreateClient(ctx, r.ID, a))
	must(t, s.CreateClient(ctx, r.ID, b))
	got, err := s.GetClient(ctx, r.ID, b.ID)
	must(t, err)
	if diff := cmp.Diff(b.Authorization, got.Authorization); diff != "" {
		t.Fatalf("resource server settings (-want +got):\n%s", diff)
	}
	return r, a, b
}

func resource(server store.Client, name, owner string) store.AuthzResource {
	return store.AuthzResource{ID: id("res"), ServerID: server.ID, Name: name, OwnerID: owner, AccessMode: "private", CreatedAt: clock()}
}

func names(rs []store.AuthzResource) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func testAuthzResources(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	full := store.AuthzResource{ID: id("res"), ServerID: models.ID, Name: "llama", DisplayName: "Llama", Type: "model-group",
		URIs: []string{"/models/llama"}, IconURI: "https://icons/x", ScopeIDs: []string{"s1", "s2"},
		Attributes: map[string][]string{"team": {"a", "b"}}, Description: "d", OwnerID: "alice", OwnerManagedAccess: true,
		AccessMode: "restricted", BackendRoles: []store.BackendRole{{Type: store.BackendRoleRole, ID: "r1"}, {Type: store.BackendRoleGroup, ID: "g1"}},
		CreatedAt: clock()}
	must(t, s.CreateAuthzResource(ctx, r.ID, full))
	got, err := s.GetAuthzResource(ctx, r.ID, full.ID)
	must(t, err)
	if diff := cmp.Diff(full, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	// The same name on another server is another resource; on the same
	// server a conflict.
	must(t, s.CreateAuthzResource(ctx, r.ID, resource(jobs, "llama", "bob")))
	wantConflict(t, s.CreateAuthzResource(ctx, r.ID, resource(models, "llama", "bob")), "resource", "name")
	must(t, s.CreateAuthzResource(ctx, r.ID, resource(models, "Alpha", "bob")))
	must(t, s.CreateAuthzResource(ctx, r.ID, resource(models, "beta", "alice")))

	byName, err := s.GetAuthzResourceByName(ctx, r.ID, models.ID, "llama")
	must(t, err)
	if byName.ID != full.ID {
		t.Fatalf("by name: got %s, want %s", byName.ID, full.ID)
	}
	_, err = s.GetAuthzResourceByName(ctx, r.ID, models.ID, "LLAMA")
	wantErr(t, err, store.ErrNotFound)

	all, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{})
	must(t, err)
	if diff := cmp.Diff([]string{"Alpha", "beta", "llama"}, names(all)); diff != "" {
		t.Fatalf("list ordered by name (-want +got):\n%s", diff)
	}
	mine, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{OwnerID: "alice"})
	must(t, err)
	if diff := cmp.Diff([]string{"beta", "llama"}, names(mine)); diff != "" {
		t.Fatalf("list by owner (-want +got):\n%s", diff)
	}

	// A rename frees the old name and takes the new one.
	_, err = s.UpdateAuthzResource(ctx, r.ID, full.ID, func(x *store.AuthzResource) error { x.Name = "beta"; return nil })
	wantConflict(t, err, "resource", "name")
	up, err := s.UpdateAuthzResource(ctx, r.ID, full.ID, func(x *store.AuthzResource) error { x.Name = "gamma"; return nil })
	must(t, err)
	if up.Name != "gamma" || up.Type != "model-group" {
		t.Fatalf("update returned %+v", up)
	}
	_, err = s.GetAuthzResourceByName(ctx, r.ID, models.ID, "llama")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.CreateAuthzResource(ctx, r.ID, resource(models, "llama", "carol")))
	// A change of owner moves the resource between owners' listings.
	_, err = s.UpdateAuthzResource(ctx, r.ID, full.ID, func(x *store.AuthzResource) error { x.OwnerID = "carol"; return nil })
	must(t, err)
	for owner, want := range map[string][]string{"alice": {"beta"}, "carol": {"gamma", "llama"}, "bob": {"Alpha"}} {
		got, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{OwnerID: owner})
		must(t, err)
		if diff := cmp.Diff(want, names(got)); diff != "" {
			t.Errorf("owner %s after the change (-want +got):\n%s", owner, diff)
		}
	}

	must(t, s.DeleteAuthzResource(ctx, r.ID, full.ID))
	wantErr(t, s.DeleteAuthzResource(ctx, r.ID, full.ID), store.ErrNotFound)
	_, err = s.GetAuthzResourceByName(ctx, r.ID, models.ID, "gamma")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ListAuthzResources(ctx, "no-such-realm", models.ID, store.AuthzResourceQuery{})
	wantErr(t, err, store.ErrNotFound)
}

func testAuthzResourceParents(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	group := resource(models, "group", "alice")
	must(t, s.CreateAuthzResource(ctx, r.ID, group))
	model := resource(models, "model", "alice")
	model.ParentID = group.ID
	must(t, s.CreateAuthzResource(ctx, r.ID, model))

	orphan := resource(models, "orphan", "alice")
	orphan.ParentID = "no-such-resource"
	wantErr(t, s.CreateAuthzResource(ctx, r.ID, orphan), store.ErrNotFound)
	other := resource(jobs, "elsewhere", "alice")
	other.ParentID = group.ID
	wantErr(t, s.CreateAuthzResource(ctx, r.ID, other), store.ErrNotFound)

	another := resource(models, "another", "bob")
	another.ParentID = group.ID
	must(t, s.CreateAuthzResource(ctx, r.ID, another))
	kids, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{ParentID: group.ID})
	must(t, err)
	if diff := cmp.Diff([]string{"another", "model"}, names(kids)); diff != "" {
		t.Fatalf("children by name (-want +got):\n%s", diff)
	}
	kids, err = s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{ParentID: group.ID, OwnerID: "alice"})
	must(t, err)
	if diff := cmp.Diff([]string{"model"}, names(kids)); diff != "" {
		t.Fatalf("an owner's children (-want +got):\n%s", diff)
	}
	kids, err = s.ListAuthzResources(ctx, r.ID, jobs.ID, store.AuthzResourceQuery{ParentID: group.ID})
	must(t, err)
	if len(kids) != 0 {
		t.Fatalf("another server's listing of the children: %v", names(kids))
	}
	must(t, s.DeleteAuthzResource(ctx, r.ID, another.ID))
	wantErr(t, s.DeleteAuthzResource(ctx, r.ID, group.ID), store.ErrHasChildren)
	if _, err := s.GetAuthzResource(ctx, r.ID, group.ID); err != nil {
		t.Fatalf("a refused delete removed the parent: %v", err)
	}
	_, err = s.UpdateAuthzResource(ctx, r.ID, group.ID, func(x *store.AuthzResource) error { x.ParentID = model.ID; return nil })
	wantErr(t, err, store.ErrInvalidParent)
	_, err = s.UpdateAuthzResource(ctx, r.ID, group.ID, func(x *store.AuthzResource) error { x.ParentID = group.ID; return nil })
	wantErr(t, err, store.ErrInvalidParent)

	must(t, s.DeleteAuthzResource(ctx, r.ID, model.ID))
	must(t, s.DeleteAuthzResource(ctx, r.ID, group.ID))
}

func testAuthzAccessKey(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	res := resource(models, "model", "alice")
	res.AccessKey = &store.ResourceAccessKey{Hash: "h1", CreatedAt: clock()}
	must(t, s.CreateAuthzResource(ctx, r.ID, res))
	got, err := s.GetAuthzResourceByAccessKey(ctx, r.ID, "h1")
	must(t, err)
	if got.ID != res.ID {
		t.Fatalf("by key: got %s", got.ID)
	}
	// Regenerating replaces the hash in one commit: the old one stops.
	_, err = s.UpdateAuthzResource(ctx, r.ID, res.ID, func(x *store.AuthzResource) error {
		x.AccessKey = &store.ResourceAccessKey{Hash: "h2", CreatedAt: clock()}
		return nil
	})
	must(t, err)
	_, err = s.GetAuthzResourceByAccessKey(ctx, r.ID, "h1")
	wantErr(t, err, store.ErrNotFound)
	got, err = s.GetAuthzResourceByAccessKey(ctx, r.ID, "h2")
	must(t, err)
	if got.ID != res.ID || got.AccessKey == nil || got.AccessKey.Hash != "h2" {
		t.Fatalf("by new key: %+v", got)
	}
	// A hash is unique in the realm.
	dup := resource(jobs, "other", "bob")
	dup.AccessKey = &store.ResourceAccessKey{Hash: "h2", CreatedAt: clock()}
	wantConflict(t, s.CreateAuthzResource(ctx, r.ID, dup), "resource", "accessKey")
	_, err = s.GetAuthzResourceByAccessKey(ctx, r.ID, "")
	wantErr(t, err, store.ErrNotFound)
	// An update that does not touch the key keeps it.
	_, err = s.UpdateAuthzResource(ctx, r.ID, res.ID, func(x *store.AuthzResource) error { x.Description = "x"; return nil })
	must(t, err)
	_, err = s.GetAuthzResourceByAccessKey(ctx, r.ID, "h2")
	must(t, err)
	must(t, s.DeleteAuthzResource(ctx, r.ID, res.ID))
	_, err = s.GetAuthzResourceByAccessKey(ctx, r.ID, "h2")
	wantErr(t, err, store.ErrNotFound)
}

func testAuthzScopesPolicies(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	read := store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "read", DisplayName: "Read", IconURI: "i"}
	must(t, s.CreateAuthzScope(ctx, r.ID, read))
	must(t, s.CreateAuthzScope(ctx, r.ID, store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "deploy"}))
	must(t, s.CreateAuthzScope(ctx, r.ID, store.AuthzScope{ID: id("scope"), ServerID: jobs.ID, Name: "read"}))
	wantConflict(t, s.CreateAuthzScope(ctx, r.ID, store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "read"}), "scope", "name")
	got, err := s.GetAuthzScope(ctx, r.ID, read.ID)
	must(t, err)
	if diff := cmp.Diff(read, got); diff != "" {
		t.Fatalf("scope round trip (-want +got):\n%s", diff)
	}
	scopes, err := s.ListAuthzScopes(ctx, r.ID, models.ID)
	must(t, err)
	if len(scopes) != 2 || scopes[0].Name != "deploy" || scopes[1].Name != "read" {
		t.Fatalf("scopes: %+v", scopes)
	}
	_, err = s.UpdateAuthzScope(ctx, r.ID, read.ID, func(x *store.AuthzScope) error { x.Name = "deploy"; return nil })
	wantConflict(t, err, "scope", "name")
	_, err = s.UpdateAuthzScope(ctx, r.ID, read.ID, func(x *store.AuthzScope) error { x.Name = "view"; return nil })
	must(t, err)
	must(t, s.DeleteAuthzScope(ctx, r.ID, read.ID))
	_, err = s.GetAuthzScope(ctx, r.ID, read.ID)
	wantErr(t, err, store.ErrNotFound)

	p := store.AuthzPolicy{ID: id("pol"), ServerID: models.ID, Name: "analysts", Description: "d", Type: "role", Logic: "NEGATIVE",
		DecisionStrategy: "CONSENSUS", Roles: []store.AuthzRoleRef{{ID: "r1", Required: true}, {ID: "r2"}},
		Groups: []store.AuthzGroupRef{{ID: "g1", ExtendChildren: true}}, UserIDs: []string{"u1"}, ClientIDs: []string{"c1"},
		PolicyIDs: []string{"p0"}, ResourceIDs: []string{"x"}, ResourceType: "t", ScopeIDs: []string{"s"}}
	must(t, s.CreateAuthzPolicy(ctx, r.ID, p))
	gp, err := s.GetAuthzPolicy(ctx, r.ID, p.ID)
	must(t, err)
	if diff := cmp.Diff(p, gp); diff != "" {
		t.Fatalf("policy round trip (-want +got):\n%s", diff)
	}
	wantConflict(t, s.CreateAuthzPolicy(ctx, r.ID, store.AuthzPolicy{ID: id("pol"), ServerID: models.ID, Name: "analysts", Type: "user"}), "policy", "name")
	must(t, s.CreateAuthzPolicy(ctx, r.ID, store.AuthzPolicy{ID: id("pol"), ServerID: models.ID, Name: "Admins", Type: "user"}))
	pols, err := s.ListAuthzPolicies(ctx, r.ID, models.ID)
	must(t, err)
	if len(pols) != 2 || pols[0].Name != "Admins" {
		t.Fatalf("policies: %+v", pols)
	}
	none, err := s.ListAuthzPolicies(ctx, r.ID, jobs.ID)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("another server's policies: %+v", none)
	}
	_, err = s.UpdateAuthzPolicy(ctx, r.ID, p.ID, func(x *store.AuthzPolicy) error { x.ServerID = jobs.ID; return nil })
	wantErr(t, err, store.ErrNotFound)
	up, err := s.UpdateAuthzPolicy(ctx, r.ID, p.ID, func(x *store.AuthzPolicy) error { x.Logic = "POSITIVE"; return nil })
	must(t, err)
	if up.Logic != "POSITIVE" || up.Name != "analysts" {
		t.Fatalf("policy update: %+v", up)
	}
	must(t, s.DeleteAuthzPolicy(ctx, r.ID, p.ID))
	wantErr(t, s.DeleteAuthzPolicy(ctx, r.ID, p.ID), store.ErrNotFound)
}

func testAuthzCascade(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	group := resource(models, "group", "alice")
	must(t, s.CreateAuthzResource(ctx, r.ID, group))
	child := resource(models, "child", "alice")
	child.ParentID = group.ID
	child.AccessKey = &store.ResourceAccessKey{Hash: "k", CreatedAt: clock()}
	must(t, s.CreateAuthzResource(ctx, r.ID, child))
	sc := store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "read"}
	must(t, s.CreateAuthzScope(ctx, r.ID, sc))
	pol := store.AuthzPolicy{ID: id("pol"), ServerID: models.ID, Name: "p", Type: "user"}
	must(t, s.CreateAuthzPolicy(ctx, r.ID, pol))
	kept := resource(jobs, "kept", "alice")
	must(t, s.CreateAuthzResource(ctx, r.ID, kept))

	must(t, s.DeleteClient(ctx, r.ID, models.ID))
	_, e1 := s.GetAuthzResource(ctx, r.ID, group.ID)
	_, e2 := s.GetAuthzResource(ctx, r.ID, child.ID)
	_, e3 := s.GetAuthzResourceByAccessKey(ctx, r.ID, "k")
	_, e4 := s.GetAuthzScope(ctx, r.ID, sc.ID)
	_, e5 := s.GetAuthzPolicy(ctx, r.ID, pol.ID)
	wantGone(t, "after DeleteClient", map[string]error{"resource": e1, "child": e2, "by key": e3, "scope": e4, "policy": e5})
	if _, err := s.GetAuthzResource(ctx, r.ID, kept.ID); err != nil {
		t.Fatalf("another server's resource went too: %v", err)
	}
	// A client of the same ID made again starts empty.
	models.ClientID = "models2"
	must(t, s.CreateClient(ctx, r.ID, models))
	rs, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{})
	must(t, err)
	if len(rs) != 0 {
		t.Fatalf("resources survived their server: %v", names(rs))
	}

	must(t, s.DeleteRealm(ctx, r.ID))
	_, err = s.GetAuthzResource(ctx, r.ID, kept.ID)
	wantErr(t, err, store.ErrNotFound)
}

// Concurrent writers (replicas sharing a database) claiming one name get
// one winner; concurrent access-key rotations leave exactly one key that
// finds the resource, the last one stored.
func testAuthzConcurrent(t *testing.T, s store.Store) {
	r, models, _ := resourceServers(t, s)
	const n = 8
	errs := AtOnce(n, func(i int) error {
		return s.CreateAuthzResource(ctx, r.ID, resource(models, "same", fmt.Sprint("owner-", i)))
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			wantConflict(t, err, "resource", "name")
		}
	}
	if wins != 1 {
		t.Fatalf("%d creates of one name won, want 1", wins)
	}

	res, err := s.GetAuthzResourceByName(ctx, r.ID, models.ID, "same")
	must(t, err)
	errs = AtOnce(n, func(i int) error {
		return errOf(s.UpdateAuthzResource(ctx, r.ID, res.ID, func(x *store.AuthzResource) error {
			x.AccessKey = &store.ResourceAccessKey{Hash: fmt.Sprint("key-", i), CreatedAt: clock()}
			return nil
		}))
	})
	for _, err := range errs {
		must(t, err)
	}
	final, err := s.GetAuthzResource(ctx, r.ID, res.ID)
	must(t, err)
	found := 0
	for i := range n {
		got, err := s.GetAuthzResourceByAccessKey(ctx, r.ID, fmt.Sprint("key-", i))
		switch {
		case err == nil && got.ID == res.ID && final.AccessKey.Hash == fmt.Sprint("key-", i):
			found++
		case errors.Is(err, store.ErrNotFound):
		default:
			t.Errorf("key %d: %v (stored %s)", i, err, final.AccessKey.Hash)
		}
	}
	if found != 1 {
		t.Fatalf("%d keys find the resource, want exactly the stored one", found)
	}
}

// Authz records handed in or out are copies, and an update whose fn fails
// (after mutating the record, its nested values and its unique keys) is
// returned as is and leaves the record and every index as they were.
func testAuthzCopies(t *testing.T, s store.Store) {
	r, models, _ := resourceServers(t, s)
	group := resource(models, "group", "carol")
	must(t, s.CreateAuthzResource(ctx, r.ID, group))
	// nested gives a record fresh nested values, so that want shares
	// nothing with what is mutated.
	created := clock()
	nested := func(x *store.AuthzResource) {
		x.URIs, x.ScopeIDs = []string{"/m"}, []string{"s1"}
		x.Attributes = map[string][]string{"k": {"v"}}
		x.BackendRoles = []store.BackendRole{{Type: store.BackendRoleRole, ID: "r1"}}
		x.AccessKey = &store.ResourceAccessKey{Hash: "h1", CreatedAt: created}
	}
	res := resource(models, "model", "alice")
	nested(&res)
	want := res
	nested(&want)
	must(t, s.CreateAuthzResource(ctx, r.ID, res))
	res.URIs[0], res.ScopeIDs[0], res.Attributes["k"][0], res.BackendRoles[0].ID = "x", "x", "x", "x"
	res.AccessKey.Hash = "x"
	sc := store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "read"}
	must(t, s.CreateAuthzScope(ctx, r.ID, sc))
	polID := id("pol")
	policy := func() store.AuthzPolicy {
		return store.AuthzPolicy{ID: polID, ServerID: models.ID, Name: "p", Type: "role",
			Roles: []store.AuthzRoleRef{{ID: "r1"}}, PolicyIDs: []string{"p0"}}
	}
	pol, wantPol := policy(), policy()
	must(t, s.CreateAuthzPolicy(ctx, r.ID, pol))
	pol.Roles[0].ID, pol.PolicyIDs[0] = "x", "x"

	// Mutate everything the store hands out.
	for _, got := range []func() (store.AuthzResource, error){
		func() (store.AuthzResource, error) { return s.GetAuthzResource(ctx, r.ID, res.ID) },
		func() (store.AuthzResource, error) { return s.GetAuthzResourceByName(ctx, r.ID, models.ID, "model") },
		func() (store.AuthzResource, error) { return s.GetAuthzResourceByAccessKey(ctx, r.ID, "h1") },
		func() (store.AuthzResource, error) {
			return firstListed(s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{OwnerID: "alice"}))
		},
		func() (store.AuthzResource, error) {
			return s.UpdateAuthzResource(ctx, r.ID, res.ID, func(*store.AuthzResource) error { return nil })
		},
	} {
		x, err := got()
		must(t, err)
		x.URIs[0], x.ScopeIDs[0], x.Attributes["k"][0], x.BackendRoles[0].ID = "x", "x", "x", "x"
		x.AccessKey.Hash = "x"
	}
	for _, got := range []func() (store.AuthzPolicy, error){
		func() (store.AuthzPolicy, error) { return s.GetAuthzPolicy(ctx, r.ID, pol.ID) },
		func() (store.AuthzPolicy, error) { return firstListed(s.ListAuthzPolicies(ctx, r.ID, models.ID)) },
		func() (store.AuthzPolicy, error) {
			return s.UpdateAuthzPolicy(ctx, r.ID, pol.ID, func(*store.AuthzPolicy) error { return nil })
		},
	} {
		x, err := got()
		must(t, err)
		x.Roles[0].ID, x.PolicyIDs[0] = "x", "x"
	}

	// Aborted updates: every change, unique keys included, is dropped.
	boom := errors.New("boom")
	_, err := s.UpdateAuthzResource(ctx, r.ID, res.ID, func(x *store.AuthzResource) error {
		x.Name, x.OwnerID, x.ParentID = "renamed", "bob", group.ID
		x.URIs[0], x.Attributes["k"][0], x.BackendRoles[0].ID = "x", "x", "x"
		x.AccessKey.Hash = "h2"
		return boom
	})
	if err != boom {
		t.Fatalf("aborted resource update returned %v, want the fn's error as is", err)
	}
	_, err = s.UpdateAuthzScope(ctx, r.ID, sc.ID, func(x *store.AuthzScope) error { x.Name = "renamed"; return boom })
	if err != boom {
		t.Fatalf("aborted scope update returned %v, want the fn's error as is", err)
	}
	_, err = s.UpdateAuthzPolicy(ctx, r.ID, pol.ID, func(x *store.AuthzPolicy) error {
		x.Name, x.Roles[0].ID = "renamed", "x"
		return boom
	})
	if err != boom {
		t.Fatalf("aborted policy update returned %v, want the fn's error as is", err)
	}

	wantEqual(t, "resource", try(s.GetAuthzResource(ctx, r.ID, res.ID)).must(t), want)
	wantEqual(t, "resource by old name", try(s.GetAuthzResourceByName(ctx, r.ID, models.ID, "model")).must(t).ID, res.ID)
	wantEqual(t, "resource by old key", try(s.GetAuthzResourceByAccessKey(ctx, r.ID, "h1")).must(t).ID, res.ID)
	wantEqual(t, "scope", try(s.GetAuthzScope(ctx, r.ID, sc.ID)).must(t), sc)
	wantEqual(t, "policy", try(s.GetAuthzPolicy(ctx, r.ID, pol.ID)).must(t), wantPol)
	_, e1 := s.GetAuthzResourceByName(ctx, r.ID, models.ID, "renamed")
	_, e2 := s.GetAuthzResourceByAccessKey(ctx, r.ID, "h2")
	wantGone(t, "after aborted updates", map[string]error{"new name": e1, "new key": e2})
	kids, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{ParentID: group.ID})
	must(t, err)
	bobs, err := s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{OwnerID: "bob"})
	must(t, err)
	if len(kids) != 0 || len(bobs) != 0 {
		t.Fatalf("aborted update listed under the new parent %v or owner %v", names(kids), names(bobs))
	}
	// The group has no child, so it goes.
	must(t, s.DeleteAuthzResource(ctx, r.ID, group.ID))
	wantErr(t, errOf(s.UpdateAuthzResource(ctx, r.ID, "missing", func(*store.AuthzResource) error { return nil })), store.ErrNotFound)
	wantErr(t, errOf(s.UpdateAuthzScope(ctx, r.ID, "missing", func(*store.AuthzScope) error { return nil })), store.ErrNotFound)
	wantErr(t, errOf(s.UpdateAuthzPolicy(ctx, r.ID, "missing", func(*store.AuthzPolicy) error { return nil })), store.ErrNotFound)
}

// A resource moved to a parent that does not exist, or that is another
// server's, is refused like one created so (ErrNotFound), and stays where
// it was; moving it to another parent of its server, or to none, moves it
// between the children listings.
func testAuthzResourceMoves(t *testing.T, s store.Store) {
	r, models, jobs := resourceServers(t, s)
	a, b := resource(models, "a", "alice"), resource(models, "b", "alice")
	elsewhere := resource(jobs, "elsewhere", "alice")
	for _, x := range []store.AuthzResource{a, b, elsewhere} {
		must(t, s.CreateAuthzResource(ctx, r.ID, x))
	}
	child := resource(models, "child", "alice")
	child.ParentID = a.ID
	must(t, s.CreateAuthzResource(ctx, r.ID, child))
	move := func(parent string) error {
		return errOf(s.UpdateAuthzResource(ctx, r.ID, child.ID, func(x *store.AuthzResource) error { x.ParentID = parent; return nil }))
	}
	children := func(parent string) []string {
		t.Helper()
		return names(try(s.ListAuthzResources(ctx, r.ID, models.ID, store.AuthzResourceQuery{ParentID: parent})).must(t))
	}
	self := resource(models, "self", "alice")
	self.ParentID = self.ID
	wantErr(t, s.CreateAuthzResource(ctx, r.ID, self), store.ErrInvalidParent)
	wantErr(t, move("no-such-resource"), store.ErrNotFound)
	wantErr(t, move(elsewhere.ID), store.ErrNotFound)
	wantEqual(t, "a's children after refused moves", children(a.ID), []string{"child"})

	must(t, move(b.ID))
	wantEqual(t, "a's children", children(a.ID), []string{})
	wantEqual(t, "b's children", children(b.ID), []string{"child"})
	must(t, s.DeleteAuthzResource(ctx, r.ID, a.ID))
	wantErr(t, s.DeleteAuthzResource(ctx, r.ID, b.ID), store.ErrHasChildren)
	must(t, move(""))
	wantEqual(t, "b's children once the child is top-level", children(b.ID), []string{})
	must(t, s.DeleteAuthzResource(ctx, r.ID, b.ID))
}

// A record of a resource server that is no client of the realm (never
// created, another realm's, or deleted meanwhile) is refused: DeleteClient
// would never remove it.
func testAuthzNeedServer(t *testing.T, s store.Store) {
	r, models, _ := resourceServers(t, s)
	other := mustRealm(t, s, "other")
	theirs := store.Client{ID: id("client"), ClientID: "theirs", Enabled: true, CreatedAt: clock()}
	must(t, s.CreateClient(ctx, other.ID, theirs))
	for _, server := range []store.Client{{ID: "no-such-client"}, theirs} {
		wantErr(t, s.CreateAuthzResource(ctx, r.ID, resource(server, "x", "alice")), store.ErrNotFound)
		wantErr(t, s.CreateAuthzScope(ctx, r.ID, store.AuthzScope{ID: id("scope"), ServerID: server.ID, Name: "x"}), store.ErrNotFound)
		wantErr(t, s.CreateAuthzPolicy(ctx, r.ID, store.AuthzPolicy{ID: id("pol"), ServerID: server.ID, Name: "x", Type: "user"}), store.ErrNotFound)
		wantEqual(t, "resources", names(try(s.ListAuthzResources(ctx, r.ID, server.ID, store.AuthzResourceQuery{})).must(t)), []string{})
		wantEqual(t, "scopes", len(try(s.ListAuthzScopes(ctx, r.ID, server.ID)).must(t)), 0)
		wantEqual(t, "policies", len(try(s.ListAuthzPolicies(ctx, r.ID, server.ID)).must(t)), 0)
	}
	must(t, s.DeleteClient(ctx, r.ID, models.ID))
	wantErr(t, s.CreateAuthzResource(ctx, r.ID, resource(models, "late", "alice")), store.ErrNotFound)
	wantErr(t, s.CreateAuthzScope(ctx, r.ID, store.AuthzScope{ID: id("scope"), ServerID: models.ID, Name: "late"}), store.ErrNotFound)
}
