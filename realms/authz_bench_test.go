package realms

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// authzBench is a resource server holding n resources of one owner (each
// restricted to one of 100 realm roles, in turn) and one resource of the
// server's own opened by a role permission; the subject holds all 100
// roles, the owner too.
type authzBench struct {
	svc     *Service
	realmID string
	server  string
	subject string
	target  store.AuthzResource // a restricted resource the subject shares
	key     string              // target's access key
	doc     string              // the server's own resource
}

const benchRoles = 100

func newAuthzBench(b *testing.B, n int) *authzBench {
	b.Helper()
	svc, r, _ := benchService(b)
	ctx := context.Background()
	settings := DefaultAuthzSettings()
	srv, _, err := svc.CreateClient(ctx, "bench", NewClient{Client: store.Client{ClientID: "models", Enabled: true, Authorization: &settings}})
	if err != nil {
		b.Fatal(err)
	}
	var roleIDs []string
	for i := range benchRoles {
		role, err := svc.CreateRole(ctx, "bench", store.Role{Name: fmt.Sprintf("role-%03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		roleIDs = append(roleIDs, role.ID)
	}
	mkUser := func(name string) store.User {
		u, err := svc.CreateUser(ctx, "bench", NewUser{User: store.User{Username: name, Enabled: true}})
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.GrantRoles(ctx, "bench", u.ID, roleIDs...); err != nil {
			b.Fatal(err)
		}
		return u
	}
	owner, subject := mkUser("owner"), mkUser("subject")
	read := store.AuthzScope{ID: NewID(), ServerID: srv.ID, Name: "read"}
	if err := svc.Store().CreateAuthzScope(ctx, r.ID, read); err != nil {
		b.Fatal(err)
	}
	// Written to the store directly: the domain rules are not what is
	// measured, and the set-up stays within seconds.
	bench := &authzBench{svc: svc, realmID: r.ID, server: srv.ID, subject: subject.ID}
	for i := range n {
		res := store.AuthzResource{ID: NewID(), ServerID: srv.ID, Name: fmt.Sprintf("model-%05d", i), OwnerID: owner.ID,
			AccessMode: AccessRestricted, BackendRoles: []store.BackendRole{{Type: store.BackendRoleRole, ID: roleIDs[i%benchRoles]}},
			ScopeIDs: []string{read.ID}}
		if err := svc.Store().CreateAuthzResource(ctx, r.ID, res); err != nil {
			b.Fatal(err)
		}
		if i == n/2 {
			bench.target = res
		}
	}
	ownerCaller := AuthzCaller{UserID: owner.ID}
	if bench.key, _, err = svc.CreateResourceAccessKey(ctx, r.ID, srv.ID, ownerCaller, bench.target.ID); err != nil {
		b.Fatal(err)
	}
	admin := AuthzCaller{ClientID: srv.ID}
	doc, err := svc.CreateResource(ctx, r.ID, srv.ID, admin, ResourceInput{Name: "doc", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	bench.doc = doc.ID
	if _, err := svc.CreatePolicy(ctx, r.ID, srv.ID, admin, store.AuthzPolicy{Name: "last role", Type: PolicyRole,
		Roles: []store.AuthzRoleRef{{ID: roleIDs[benchRoles-1]}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreatePolicy(ctx, r.ID, srv.ID, admin, store.AuthzPolicy{Name: "doc", Type: PermResource,
		ResourceIDs: []string{doc.ID}, PolicyIDs: []string{"last role"}}); err != nil {
		b.Fatal(err)
	}
	return bench
}

func (a *authzBench) decide(b *testing.B, reqs []PermissionRequest, want int) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		gs, err := a.svc.Evaluate(ctx, a.realmID, a.server, AuthzSubject{UserID: a.subject}, reqs)
		if err != nil {
			b.Fatal(err)
		}
		if len(gs) != want {
			b.Fatalf("granted %d, want %d", len(gs), want)
		}
	}
}

// One yes/no decision (response_mode=decision) on a restricted resource
// the subject shares a backend role with, among 10,000 resources, for a
// subject holding 100 roles: by ID, by access key, and on the server's
// own resource through a role permission.
func BenchmarkAuthzDecision(b *testing.B) {
	a := newAuthzBench(b, 10000)
	b.Run("restricted-by-id", func(b *testing.B) {
		a.decide(b, []PermissionRequest{{Resource: a.target.ID, Scopes: []string{"read"}}}, 1)
	})
	b.Run("restricted-by-name", func(b *testing.B) {
		a.decide(b, []PermissionRequest{{Resource: a.target.Name, Scopes: []string{"read"}}}, 1)
	})
	b.Run("restricted-by-access-key", func(b *testing.B) {
		a.decide(b, []PermissionRequest{{AccessKey: a.key, Scopes: []string{"read"}}}, 1)
	})
	b.Run("role-permission", func(b *testing.B) {
		a.decide(b, []PermissionRequest{{Resource: a.doc, Scopes: []string{"read"}}}, 1)
	})
}

// Everything the subject may see (response_mode=permissions with no
// permission asked): every resource of the server is decided.
func BenchmarkAuthzPermissionsList(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("resources-%d", n), func(b *testing.B) {
			a := newAuthzBench(b, n)
			a.decide(b, nil, n+1)
		})
	}
}
