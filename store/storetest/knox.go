package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse/gatehouse/store"
)

// knoxTests are the conformance cases of this resource.
var knoxTests = []conformanceTest{
	{"KnoxTokensLimitAndExpiry", testKnoxTokens},
	{"KnoxTokensFollowTheUserID", testKnoxTokensByUserID},
}

func testKnoxTokens(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	now := time.Now().UTC()
	tok := func(id, user string, issued time.Duration, life time.Duration) store.KnoxToken {
		return store.KnoxToken{ID: id, UserID: "id-" + user, Username: user, CreatedByID: "id-" + user, CreatedBy: user,
			IssuedAt: now.Add(issued), ExpiresAt: now.Add(life), Enabled: true}
	}
	limit := store.KnoxTokenLimit{Max: 2, Now: now}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t1", "alice", 0, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t2", "alice", time.Second, time.Hour), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("b1", "bob", 0, time.Hour), limit))
	wantErr(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit), store.ErrLimitExceeded)
	limit.RemoveOldest = true
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("t3", "alice", 2*time.Second, time.Hour), limit))
	wantErr(t, errOf(s.GetKnoxToken(ctx, r.ID, "t1")), store.ErrNotFound)
	mine, err := s.ListKnoxTokens(ctx, r.ID, store.KnoxTokenQuery{UserID: "id-alice"})
	must(t, err)
	if len(mine) != 2 || mine[0].ID != "t2" || mine[1].ID != "t3" {
		t.Fatalf("alice's tokens = %v", mine)
	}
	if all, _ := s.ListKnoxTokens(ctx, r.ID, store.KnoxTokenQuery{}); len(all) != 3 {
		t.Fatalf("all = %v", all)
	}
	// Expired tokens do not count toward the limit.
	limit = store.KnoxTokenLimit{Max: 1, Now: now.Add(2 * time.Hour)}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("b2", "bob", time.Second, 3*time.Hour), limit))

	up, err := s.UpdateKnoxToken(ctx, r.ID, "t2", func(k *store.KnoxToken) error { k.Enabled = false; k.ExpiresAt = now.Add(5 * time.Hour); return nil })
	must(t, err)
	if up.Enabled {
		t.Fatal("update lost")
	}
	n, err := s.DeleteExpiredKnoxTokens(ctx, now.Add(90*time.Minute), 100)
	must(t, err)
	if n != 2 { // t3 and b1 (t2 was renewed, b2 lives longer)
		t.Fatalf("DeleteExpiredKnoxTokens = %d", n)
	}
	if _, err := s.GetKnoxToken(ctx, r.ID, "t2"); err != nil {
		t.Fatal("renewed token evicted at its old expiry")
	}
	must(t, s.DeleteKnoxToken(ctx, r.ID, "t2"))
	wantErr(t, s.DeleteKnoxToken(ctx, r.ID, "t2"), store.ErrNotFound)
}

// A token belongs to its owner's user ID: a later user with the same
// name neither lists it nor has it counted against their limit, and a row
// without an owner ID (written before tokens were bound) matches no user.
func testKnoxTokensByUserID(t *testing.T, s store.Store) {
	r := mustRealm(t, s, "demo")
	now := time.Now().UTC().Truncate(time.Millisecond)
	tok := func(id, userID string) store.KnoxToken {
		return store.KnoxToken{ID: id, UserID: userID, Username: "alice", CreatedByID: userID, CreatedBy: "alice",
			Topology: "authtkn", IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxLifetime: now.Add(2 * time.Hour), Enabled: true}
	}
	limit := store.KnoxTokenLimit{Max: 1, Now: now}
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("old", "u-old"), limit))
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("legacy", ""), limit))
	// The old alice's token does not count toward the new alice's limit.
	must(t, s.CreateKnoxToken(ctx, r.ID, tok("new", "u-new"), limit))
	wantErr(t, s.CreateKnoxToken(ctx, r.ID, tok("new2", "u-new"), limit), store.ErrLimitExceeded)
	ids := func(q store.KnoxTokenQuery) []string {
		t.Helper()
		toks, err := s.ListKnoxTokens(ctx, r.ID, q)
		must(t, err)
		out := []string{}
		for _, k := range toks {
			out = append(out, k.ID)
		}
		return out
	}
	for _, c := range []struct {
		q    store.KnoxTokenQuery
		want []string
	}{
		{store.KnoxTokenQuery{UserID: "u-new"}, []string{"new"}},
		{store.KnoxTokenQuery{CreatedByID: "u-new"}, []string{"new"}},
		{store.KnoxTokenQuery{UserID: "u-old", CreatedByID: "u-old"}, []string{"old"}},
		{store.KnoxTokenQuery{UserID: "u-old", CreatedByID: "u-new"}, []string{}},
		{store.KnoxTokenQuery{UserID: "alice"}, []string{}},
	} {
		got := ids(c.q)
		if d := cmp.Diff(c.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Errorf("ListKnoxTokens(%+v) (-want +got):\n%s", c.q, d)
		}
	}
	if d := cmp.Diff([]string{"legacy", "new", "old"}, ids(store.KnoxTokenQuery{}), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("all tokens (-want +got):\n%s", d)
	}
	// Update keeps the owner and records who disabled the token.
	up, err := s.UpdateKnoxToken(ctx, r.ID, "new", func(k *store.KnoxToken) error {
		k.Enabled, k.DisabledBy = false, store.KnoxDisabledByAdmin
		return nil
	})
	must(t, err)
	got, err := s.GetKnoxToken(ctx, r.ID, "new")
	must(t, err)
	want := tok("new", "u-new")
	want.Enabled, want.DisabledBy = false, store.KnoxDisabledByAdmin
	if d := cmp.Diff(want, got); d != "" || up.UserID != "u-new" {
		t.Errorf("after update (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"new"}, ids(store.KnoxTokenQuery{UserID: "u-new"})); d != "" {
		t.Errorf("owner index after update (-want +got):\n%s", d)
	}
	must(t, s.DeleteKnoxToken(ctx, r.ID, "new"))
	if got := ids(store.KnoxTokenQuery{UserID: "u-new"}); len(got) != 0 {
		t.Errorf("deleted token still listed: %v", got)
	}
}
