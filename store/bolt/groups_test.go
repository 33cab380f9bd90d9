package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// A realm stored before groups existed has no group buckets: reads find
// no groups, and the first write creates the buckets.
func TestGroupsInARealmFromBeforeGroups(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := store.Realm{ID: "r1", Name: "old"}
	if err := s.CreateRealm(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		rb := tx.Bucket([]byte("realm/r1"))
		if err := rb.DeleteBucket(bGroups); err != nil {
			return err
		}
		return rb.DeleteBucket(bGroupsByName)
	}); err != nil {
		t.Fatal(err)
	}
	if gs, err := s.ListGroups(ctx, r.ID, "", store.Page{}); err != nil || len(gs) != 0 {
		t.Fatalf("ListGroups = %v, %v", gs, err)
	}
	if _, err := s.GetGroup(ctx, r.ID, "g"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetGroup = %v, want ErrNotFound", err)
	}
	if err := s.CreateGroup(ctx, r.ID, store.Group{ID: "g", Name: "first"}); err != nil {
		t.Fatal(err)
	}
	if gs, err := s.ListGroups(ctx, r.ID, "", store.Page{}); err != nil || len(gs) != 1 {
		t.Fatalf("ListGroups after the first write = %v, %v", gs, err)
	}
}
