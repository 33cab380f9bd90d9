package realms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// bootstrappedService is a service over a fresh store, bootstrapped with
// master admin "admin"; it returns the store and sealer too.
func bootstrappedService(t *testing.T) (store.Store, *Sealer, *Service) {
	t.Helper()
	st, sealer := openTestStore(t), zeroSealer()
	svc := NewService(st, sealer, nil)
	if _, err := svc.Bootstrap(context.Background(), "admin", "admin-Pass-1"); err != nil {
		t.Fatal(err)
	}
	return st, sealer, svc
}

// Two admins deleting each other at the same time cannot both succeed: the
// last-admin rule is checked and applied under one lock.
func TestLastMasterAdminRuleHoldsUnderConcurrency(t *testing.T) {
	st, _, svc := bootstrappedService(t)
	ctx := context.Background()
	rs, err := svc.Realm(ctx, MasterRealm)
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.GetUserByUsername(ctx, rs.Realm.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	survivor := first.ID
	for round := range 20 {
		u, err := svc.CreateUser(ctx, MasterRealm, NewUser{User: store.User{Username: fmt.Sprintf("admin-%d", round), Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.GrantRoles(ctx, MasterRealm, u.ID, rs.Realm.AdminRoleIDs[AdminRole]); err != nil {
			t.Fatal(err)
		}
		pair := []string{survivor, u.ID}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, id := range pair {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					errs[i] = svc.DeleteUser(ctx, MasterRealm, id)
				} else {
					_, errs[i] = svc.UpdateUser(ctx, MasterRealm, id, func(x *store.User) error { x.Enabled = false; return nil })
				}
			}()
		}
		wg.Wait()
		var se *StateError
		switch {
		case errs[0] == nil && errors.As(errs[1], &se):
			survivor = pair[1]
		case errs[1] == nil && errors.As(errs[0], &se):
			survivor = pair[0]
		default:
			t.Fatalf("round %d: delete %v, disable %v; want exactly one refused", round, errs[0], errs[1])
		}
	}
}
