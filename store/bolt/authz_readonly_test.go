package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// A file without the authorization-services buckets (written before they
// existed) opened read-only, where Open cannot add them, answers with no
// authz records rather than a missing-bucket panic.
func TestReadOnlyOlderFileHasNoAuthzRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRealm(ctx, store.Realm{ID: "r1", Name: "demo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		rb := tx.Bucket([]byte("realm/r1"))
		for _, b := range [][]byte{bAzResources, bAzResByName, bAzResByOwner, bAzResByParent, bAzResByKey, bAzScopes, bAzScopesByName, bAzPolicies, bAzPolicyByName} {
			if err := rb.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro := &Store{db: db, path: path, readOnly: true}
	defer ro.Close()
	if rs, err := ro.ListAuthzResources(ctx, "r1", "c1", store.AuthzResourceQuery{}); err != nil || len(rs) != 0 {
		t.Errorf("resources: %v %v", rs, err)
	}
	if ps, err := ro.ListAuthzPolicies(ctx, "r1", "c1"); err != nil || len(ps) != 0 {
		t.Errorf("policies: %v %v", ps, err)
	}
	for name, err := range map[string]error{
		"by key":   second(ro.GetAuthzResourceByAccessKey(ctx, "r1", "h")),
		"by name":  second(ro.GetAuthzResourceByName(ctx, "r1", "c1", "m")),
		"resource": second(ro.GetAuthzResource(ctx, "r1", "x")),
		"scope":    second(ro.GetAuthzScope(ctx, "r1", "s")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
