package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

// importTests are the cases for what realm imports write.
var importTests = []conformanceTest{
	{"CreateUsersBatchAllOrNothing", testCreateUsersBatch},
}

func testCreateUsersBatch(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	existing := store.User{ID: id("user"), Username: "eve", Email: "eve@example.com", Enabled: true}
	must(t, s.CreateUser(ctx, r.ID, existing))
	batch := func(names ...string) []store.User {
		var out []store.User
		for _, n := range names {
			out = append(out, store.User{ID: id("user"), Username: n, Email: n + "@example.com", Enabled: true,
				Credentials: []store.Credential{{ID: id("cred"), Type: "password", Algorithm: "pbkdf2-sha256", Iterations: 1,
					Hash: []byte("h-" + n), Salt: []byte("s"), CreatedAt: clock()}},
				Attributes: map[string][]string{"n": {n}}})
		}
		return out
	}
	// A conflict anywhere in the batch, with a stored user or inside the
	// batch, by ID, username (case-insensitively) or email, writes none of
	// it, not even the users before the conflicting one.
	dupID := batch("p1", "p2", "p3")
	dupID[2].ID = dupID[0].ID
	dupEmail := batch("q1", "q2", "q3")
	dupEmail[1].Email = "EVE@example.com"
	for _, tc := range []struct {
		name  string
		users []store.User
	}{
		{"username of a stored user", batch("a1", "EVE", "a3")},
		{"username twice in the batch", batch("b1", "b2", "B1")},
		{"ID twice in the batch", dupID},
		{"ID of a stored user", append(batch("c1"), store.User{ID: existing.ID, Username: "c2"})},
		{"email of a stored user", dupEmail},
	} {
		err := s.CreateUsers(ctx, r.ID, tc.users)
		var ce *store.ConflictError
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a ConflictError", tc.name, err)
		}
		for _, u := range tc.users {
			if u.ID == existing.ID {
				continue
			}
			if got, err := s.GetUser(ctx, r.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %s was written by a failed batch: %+v %v", tc.name, u.Username, got, err)
			}
		}
		if n, err := s.CountUsers(ctx, r.ID, store.UserQuery{}); err != nil || n != 1 {
			t.Errorf("%s: %d users after a failed batch (%v), want 1", tc.name, n, err)
		}
	}
	// A clean batch is written whole, findable by every index, with its
	// credentials.
	users := batch("u1", "u2", "u3")
	must(t, s.CreateUsers(ctx, r.ID, users))
	for _, u := range users {
		got, err := s.GetUserByUsername(ctx, r.ID, u.Username)
		if err != nil || got.ID != u.ID || len(got.Credentials) != 1 || string(got.Credentials[0].Hash) != "h-"+u.Username {
			t.Errorf("GetUserByUsername(%s) = %+v, %v", u.Username, got, err)
		}
		if got, err := s.GetUserByEmail(ctx, r.ID, u.Email); err != nil || got.ID != u.ID {
			t.Errorf("GetUserByEmail(%s) = %+v, %v", u.Email, got, err)
		}
	}
	if n, err := s.CountUsers(ctx, r.ID, store.UserQuery{}); err != nil || n != 4 {
		t.Errorf("%d users (%v), want 4", n, err)
	}
	must(t, s.CreateUsers(ctx, r.ID, nil))
	if err := s.CreateUsers(ctx, id("realm"), batch("x")); err == nil {
		t.Errorf("CreateUsers into a realm that does not exist succeeded")
	}
	// Many users in one call (an import batch).
	var many []store.User
	for i := range 500 {
		many = append(many, store.User{ID: id("user"), Username: fmt.Sprintf("m%04d", i), Enabled: true})
	}
	must(t, s.CreateUsers(ctx, r.ID, many))
	if n, err := s.CountUsers(ctx, r.ID, store.UserQuery{}); err != nil || n != 504 {
		t.Errorf("%d users (%v), want 504", n, err)
	}
}
