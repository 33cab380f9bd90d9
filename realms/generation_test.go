package realms

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// TokenUser serves users without their credentials and shows every change
// made through the service at once, however often it was read before.
func TestTokenUserFollowsServiceWrites(t *testing.T) {
	svc, r, _ := benchService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, r.Name, NewUser{User: store.User{Username: "alice", Enabled: true}, Password: "alice-Secret-1"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := svc.TokenUser(ctx, r.ID, u.ID)
		if err != nil || got.Username != "alice" || !got.Enabled || got.Credentials != nil {
			t.Fatalf("TokenUser = %+v, %v: want alice, enabled, no credentials", got, err)
		}
	}
	if _, err := svc.UpdateUser(ctx, r.Name, u.ID, func(x *store.User) error { x.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.TokenUser(ctx, r.ID, u.ID); err != nil || got.Enabled {
		t.Fatalf("after disabling: %+v, %v", got, err)
	}
	if err := svc.DeleteUser(ctx, r.Name, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.TokenUser(ctx, r.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after deleting: %v, want ErrNotFound", err)
	}
}
