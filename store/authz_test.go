package store

import (
	"errors"
	"fmt"
	"testing"
)

// The parent rule every backend applies: a parent of the same server, no
// cycle, a missing parent not found, and an unchanged parent not walked.
func TestAuthzResourceCheckParent(t *testing.T) {
	rows := map[string]AuthzResource{
		"group": {ID: "group", ServerID: "s1"},
		"model": {ID: "model", ServerID: "s1", ParentID: "group"},
		"other": {ID: "other", ServerID: "s2"},
	}
	get := func(id string) (AuthzResource, error) {
		if r, ok := rows[id]; ok {
			return r, nil
		}
		return AuthzResource{}, ErrNotFound
	}
	for _, tc := range []struct {
		name string
		r    AuthzResource
		old  *AuthzResource
		want error
	}{
		{"no parent", AuthzResource{ID: "x", ServerID: "s1"}, nil, nil},
		{"parent on the server", AuthzResource{ID: "x", ServerID: "s1", ParentID: "model"}, nil, nil},
		{"missing parent", AuthzResource{ID: "x", ServerID: "s1", ParentID: "gone"}, nil, ErrNotFound},
		{"parent on another server", AuthzResource{ID: "x", ServerID: "s1", ParentID: "other"}, nil, ErrNotFound},
		{"own parent", AuthzResource{ID: "group", ServerID: "s1", ParentID: "group"}, &AuthzResource{ID: "group", ServerID: "s1"}, ErrInvalidParent},
		{"under its own child", AuthzResource{ID: "group", ServerID: "s1", ParentID: "model"}, &AuthzResource{ID: "group", ServerID: "s1"}, ErrInvalidParent},
		{"unchanged parent not walked", AuthzResource{ID: "x", ServerID: "s1", ParentID: "gone"}, &AuthzResource{ID: "x", ServerID: "s1", ParentID: "gone"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.CheckParent(tc.old, get); !errors.Is(err, tc.want) {
				t.Fatalf("CheckParent = %v, want %v", err, tc.want)
			}
		})
	}
}

// A chain longer than the walk's bound is refused rather than followed
// forever.
func TestAuthzResourceCheckParentBoundsTheWalk(t *testing.T) {
	get := func(id string) (AuthzResource, error) {
		var n int
		fmt.Sscanf(id, "r%d", &n)
		return AuthzResource{ID: id, ServerID: "s1", ParentID: fmt.Sprint("r", n+1)}, nil
	}
	r := AuthzResource{ID: "x", ServerID: "s1", ParentID: "r0"}
	if err := r.CheckParent(nil, get); !errors.Is(err, ErrInvalidParent) {
		t.Fatalf("endless chain: %v, want ErrInvalidParent", err)
	}
}

// An update works on a copy (the access key too), keeps the ID, and
// cannot move a resource to another server.
func TestUpdatedAuthzResource(t *testing.T) {
	old := AuthzResource{ID: "r1", ServerID: "s1", Name: "doc", AccessKey: &ResourceAccessKey{Hash: "h1"}}
	got, err := UpdatedAuthzResource(old, func(r *AuthzResource) error {
		r.ID, r.Name, r.AccessKey.Hash = "r2", "renamed", "h2"
		return nil
	})
	if err != nil || got.ID != "r1" || got.Name != "renamed" || got.AccessKey.Hash != "h2" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if old.AccessKey.Hash != "h1" {
		t.Fatal("the update reached the old value's access key")
	}
	if _, err := UpdatedAuthzResource(old, func(r *AuthzResource) error { r.ServerID = "s2"; return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("server change: %v, want ErrNotFound", err)
	}
	stop := errors.New("refused")
	if _, err := UpdatedAuthzResource(old, func(*AuthzResource) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
}
