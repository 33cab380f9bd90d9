package realms

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// keySummary lists a realm's keys as alg:status, oldest first.
func keySummary(t *testing.T, svc *Service, realmID string) []string {
	t.Helper()
	keys, err := svc.store.ListKeys(context.Background(), realmID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.Algorithm+":"+k.Status)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A client whose service account cannot be created (a person holds its
// username: one stored before such names were reserved) is not created
// either: one transaction, no undo.
func TestCreateClientWhoseServiceAccountConflictsLeavesNoClient(t *testing.T) {
	ctx := context.Background()
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.store.CreateUser(ctx, r.ID, store.User{ID: NewID(), Username: "service-account-batch", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "batch", Enabled: true, ServiceAccountsEnabled: true}})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "user" {
		t.Fatalf("CreateClient = %v, want the service account's user conflict", err)
	}
	if _, err := svc.store.GetClientByClientID(ctx, r.ID, "batch"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client left behind: %v", err)
	}

	// With the name free, the client comes with its account and the
	// realm's default roles.
	c, _, err := svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "api", Enabled: true, ServiceAccountsEnabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := svc.ServiceAccount(ctx, r.ID, c)
	if err != nil || sa.ServiceAccountClientID != c.ID || !equalStrings(sa.RoleIDs, []string{r.DefaultRoleID}) {
		t.Fatalf("service account = %+v, %v", sa, err)
	}
}

// Changing a realm's signature algorithm re-keys it in the same write; an
// update that fails (a rename to a taken name) changes neither the realm
// nor its keys.
func TestUpdateRealmAlgorithmChangeRekeysInOneWrite(t *testing.T) {
	ctx := context.Background()
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true, DefaultSignatureAlgorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRealm(ctx, store.Realm{Name: "taken", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	updated, err := svc.UpdateRealm(ctx, "demo", func(x *store.Realm) error {
		x.DefaultSignatureAlgorithm = "EdDSA"
		return nil
	})
	if err != nil || updated.DefaultSignatureAlgorithm != "EdDSA" {
		t.Fatalf("UpdateRealm = %+v, %v", updated, err)
	}
	want := []string{"ES256:passive", "EdDSA:active"}
	if got := keySummary(t, svc, r.ID); !equalStrings(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}

	_, err = svc.UpdateRealm(ctx, "demo", func(x *store.Realm) error {
		x.Name, x.DefaultSignatureAlgorithm = "taken", "RS256"
		return nil
	})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("rename to a taken name = %v", err)
	}
	if got := keySummary(t, svc, r.ID); !equalStrings(got, want) {
		t.Fatalf("keys after the failed update = %v, want %v", got, want)
	}
	if now, err := svc.store.GetRealmByID(ctx, r.ID); err != nil || now.Name != "demo" || now.DefaultSignatureAlgorithm != "EdDSA" {
		t.Fatalf("realm after the failed update = %+v, %v", now, err)
	}

	// Other settings leave the keys alone.
	if _, err := svc.UpdateRealm(ctx, "demo", func(x *store.Realm) error { x.DisplayName = "Demo"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := keySummary(t, svc, r.ID); !equalStrings(got, want) {
		t.Fatalf("keys after an unrelated update = %v, want %v", got, want)
	}
}

// RotateKey leaves exactly one active key, the new one.
func TestRotateKeyLeavesOneActiveKey(t *testing.T) {
	ctx := context.Background()
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true, DefaultSignatureAlgorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.RotateKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keySummary(t, svc, r.ID), []string{"ES256:passive", "ES256:active"}; !equalStrings(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	ring, err := svc.loadKeyRing(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ring.Verifier(k.KID); !ok {
		t.Fatal("the new key does not verify")
	}
}

// Enabling service accounts on a client creates its account in the same
// write: when the account cannot be created, the client keeps its old
// settings (no client with service accounts on and no account).
func TestUpdateClientEnablingServiceAccountsIsOneWrite(t *testing.T) {
	ctx := context.Background()
	svc := NewService(openTestStore(t), zeroSealer(), nil)
	r, err := svc.CreateRealm(ctx, store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.CreateClient(ctx, "demo", NewClient{Client: store.Client{ClientID: "batch", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	person := store.User{ID: NewID(), Username: "service-account-batch", Enabled: true}
	if err := svc.store.CreateUser(ctx, r.ID, person); err != nil {
		t.Fatal(err)
	}
	enable := func(x *store.Client) error { x.ServiceAccountsEnabled = true; return nil }
	if _, err := svc.UpdateClient(ctx, "demo", c.ID, enable); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("UpdateClient = %v, want the account's username conflict", err)
	}
	if now, err := svc.store.GetClient(ctx, r.ID, c.ID); err != nil || now.ServiceAccountsEnabled {
		t.Fatalf("client after the failed update = %+v, %v", now, err)
	}

	if err := svc.store.DeleteUser(ctx, r.ID, person.ID); err != nil {
		t.Fatal(err)
	}
	updated, err := svc.UpdateClient(ctx, "demo", c.ID, enable)
	if err != nil || !updated.ServiceAccountsEnabled {
		t.Fatalf("UpdateClient = %+v, %v", updated, err)
	}
	sa, err := svc.ServiceAccount(ctx, r.ID, updated)
	if err != nil || !equalStrings(sa.RoleIDs, []string{r.DefaultRoleID}) {
		t.Fatalf("service account = %+v, %v", sa, err)
	}
}
