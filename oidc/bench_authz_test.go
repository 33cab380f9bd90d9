package oidc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// The UMA grant through the router, minus the network: one decision
// (response_mode=decision on one resource by ID) and one "what may this
// user see" (response_mode=permissions over the whole server), for a user
// with a bearer access token. "small" is three resources and one role;
// "10k" is 10,000 restricted resources over 200 backend roles, the user
// holding 100 of them (so half the resources are visible).
func BenchmarkUMAGrant(b *testing.B) {
	for _, size := range []struct {
		name             string
		resources, roles int
	}{{"small", 3, 2}, {"10k", 10000, 200}} {
		a := newAuthzEnv(b)
		ctx := context.Background()
		ids := a.seedResources(ctx, b, size.resources, size.roles)
		bob := a.userToken("bob")
		h := a.srv.Config.Handler
		for _, mode := range []struct{ name, permission, responseMode string }{
			{"decision", ids[0] + "#predict", "decision"},
			{"permissions", "", "permissions"},
		} {
			form := url.Values{"grant_type": {umaGrant}, "audience": {"models"}, "response_mode": {mode.responseMode}}
			if mode.permission != "" {
				form.Set("permission", mode.permission)
			}
			body := form.Encode()
			b.Run(size.name+"/"+mode.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := processCPU(b)
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/realms/demo/protocol/openid-connect/token", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Authorization", "Bearer "+bob)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("%s: %d %s", mode.name, rec.Code, rec.Body)
					}
				}
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// seedResources gives alice roles realm roles r0..r{roles-1} and bob the
// even ones, and registers n restricted resources owned by alice, the
// i-th shared with role r{i % roles}, concurrently so that the store
// batches the commits. It returns the IDs, the first one shared with bob.
func (a *authzEnv) seedResources(ctx context.Context, b *testing.B, n, roles int) []string {
	b.Helper()
	var roleIDs, bobRoles []string
	for i := range roles {
		r, err := a.svc.CreateRole(ctx, "demo", store.Role{Name: fmt.Sprintf("r%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		roleIDs = append(roleIDs, r.ID)
		if i%2 == 0 {
			bobRoles = append(bobRoles, r.ID)
		}
	}
	if err := a.svc.GrantRoles(ctx, "demo", a.alice.ID, roleIDs...); err != nil {
		b.Fatal(err)
	}
	if err := a.svc.GrantRoles(ctx, "demo", a.users["bob"].ID, bobRoles...); err != nil {
		b.Fatal(err)
	}
	st, err := a.svc.Realm(ctx, "demo")
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	create := func(i int) error {
		res, err := a.svc.CreateResource(ctx, st.Realm.ID, a.rs.ID, realms.AuthzCaller{ClientID: a.rs.ID}, realms.ResourceInput{
			Name: fmt.Sprintf("model-%05d", i), Owner: a.alice.ID, Scopes: []string{"read", "predict"},
			AccessMode: realms.AccessRestricted, BackendRoles: []string{fmt.Sprintf("r%d", i%roles)},
		})
		ids[i] = res.ID
		return err
	}
	// The first resource creates the scopes; the rest reuse them.
	if err := create(0); err != nil {
		b.Fatal(err)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := create(i); err != nil {
					once.Do(func() { failed = err })
				}
			}
		}()
	}
	for i := 1; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return ids
}
