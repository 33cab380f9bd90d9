package realms

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// A later start never changes the admin's password, but tells whether the
// one it was given is not the stored one, without counting a login failure.
func TestBootstrapOnBootstrappedStoreReportsAnIgnoredPassword(t *testing.T) {
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	ctx := context.Background()
	if b, err := svc.Bootstrap(ctx, "root", "First-Password-1"); err != nil || !b.Created {
		t.Fatalf("first bootstrap: %+v, %v", b, err)
	}
	if _, err := svc.UpdateRealm(ctx, MasterRealm, func(r *store.Realm) error {
		r.BruteForce = store.BruteForcePolicy{Protected: true, FailureFactor: 1, PermanentLockout: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, password string
		ignored        bool
	}{
		{"root", "First-Password-1", false},
		{"root", "", false},
		{"root", "Another-Password-2", true},
		{"someone-else", "First-Password-1", true},
	} {
		b, err := svc.Bootstrap(ctx, tc.user, tc.password)
		if err != nil || b.Created || b.PasswordIgnored != tc.ignored {
			t.Errorf("Bootstrap(%q, %q) = %+v, %v; want PasswordIgnored %v", tc.user, tc.password, b, err, tc.ignored)
		}
	}
	// The stored password still works: no lockout was counted.
	r, _ := svc.Realm(ctx, MasterRealm)
	if _, err := svc.AuthenticateUser(ctx, r.Realm, "root", "First-Password-1", "127.0.0.1"); err != nil {
		t.Errorf("admin login after later starts: %v", err)
	}
}
