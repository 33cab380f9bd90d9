package postgres_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// race runs n calls spread over the replicas at once and returns their
// errors.
func race(rs []*postgres.Store, n int, call func(s *postgres.Store, i int) error) []error {
	return storetest.AtOnce(n, func(i int) error { return call(rs[i%len(rs)], i) })
}

// Single-use values stay single-use when replicas race for them: one
// authorization code redeemed on two replicas at once is issued once (the
// others learn of the reuse, with the record, to revoke), and one signature
// claimed on both is accepted once.
func TestPostgresReplicasSingleUseValues(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	now := time.Now().UTC().Truncate(time.Millisecond)
	const n = 8
	for round := range 3 {
		hash := fmt.Sprint("code-", round)
		must(t, rs[0].CreateAuthCode(ctx, "r1", store.AuthCode{Hash: hash, ClientID: "c1", UserID: "u1", SessionID: "s1",
			IssuedAt: now, ExpiresAt: now.Add(time.Minute)}))
		var reused []store.AuthCode
		var mu sync.Mutex
		errs := race(rs, n, func(s *postgres.Store, _ int) error {
			c, err := s.ConsumeAuthCode(ctx, "r1", hash, now)
			if errors.Is(err, store.ErrTokenReused) {
				mu.Lock()
				reused = append(reused, c)
				mu.Unlock()
			}
			return err
		})
		wantOneWinner(t, fmt.Sprint("code round ", round), errs, func(err error) bool { return errors.Is(err, store.ErrTokenReused) })
		for _, c := range reused {
			if c.SessionID != "s1" || !c.UsedAt.Equal(now) {
				t.Errorf("code round %d: reused record = %+v, want the session and the first use's time", round, c)
			}
		}

		nonce := fmt.Sprint("sig-", round)
		errs = race(rs, n, func(s *postgres.Store, _ int) error {
			return s.ClaimNonce(ctx, "r1", nonce, now.Add(time.Minute), now)
		})
		wantOneWinner(t, fmt.Sprint("nonce round ", round), errs, func(err error) bool {
			var ce *store.ConflictError
			return errors.As(err, &ce) && ce.Kind == "nonce"
		})
	}
}

func wantOneWinner(t *testing.T, what string, errs []error, lost func(error) bool) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !lost(err):
			t.Errorf("%s: unexpected error %v", what, err)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d callers won, want 1", what, wins)
	}
}

// A database of schema version 1 (written before realm names were folded
// and Knox tokens bound to user IDs) is migrated in place when a newer
// binary opens it: its realms keep their names and block other spellings,
// and its Knox tokens, which name their owner only by username, are kept
// but belong to no user, so no later user of that name inherits them. The
// migration keeps what version 1 uses, so a version-1 replica keeps
// working meanwhile.
func TestPostgresMigratesVersion1Data(t *testing.T) {
	u := pgtest.URL(t)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	must(t, err)
	conn := connect(t, u)
	for _, sql := range []string{
		// What migrate records, as version 1 left it.
		`CREATE TABLE schema_migrations (version integer NOT NULL, name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now(), CONSTRAINT schema_migrations_pkey PRIMARY KEY (version))`,
		`INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init.sql')`,
		string(v1),
		`INSERT INTO realms (id, name, data) VALUES ('r1', 'Demo', '{"id":"r1","realm":"Demo","enabled":true}')`,
		`INSERT INTO knox_tokens (realm_id, id, username, created_by, expires_at, data)
			VALUES ('r1', 'legacy', 'alice', 'alice', NULL, '{"id":"legacy","username":"alice","createdBy":"alice","enabled":true}')`,
		`INSERT INTO knox_token_owners (realm_id, username) VALUES ('r1', 'alice')`,
		// Version 1 named a topology's realm; migration 8 binds it to the ID.
		`INSERT INTO topologies (name, data) VALUES ('sandbox', '{"name":"sandbox","realm":"Demo","authentication":"basic","ttl":"PT1H"}'),
			('orphan', '{"name":"orphan","realm":"gone","authentication":"basic"}')`,
	} {
		_, err := conn.Exec(ctx, sql)
		must(t, err)
	}

	s := open(t, u)
	t.Cleanup(func() { s.Close() })
	r, err := s.GetRealm(ctx, "Demo")
	must(t, err)
	if r.ID != "r1" {
		t.Fatalf("migrated realm = %+v", r)
	}
	err = s.CreateRealm(ctx, store.Realm{ID: "r2", Name: "demo"})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Kind != "realm" || ce.Field != "name" {
		t.Fatalf("another spelling of a version-1 realm's name: %v, want a realm name conflict", err)
	}
	if top, err := s.GetTopology(ctx, "sandbox"); err != nil || top.RealmID != "r1" || top.TTL != "PT1H" {
		t.Fatalf("migrated topology = %+v, %v; want it bound to realm ID r1 with its settings", top, err)
	}
	if top, err := s.GetTopology(ctx, "orphan"); err != nil || top.RealmID != "" {
		t.Fatalf("topology of a realm that is gone = %+v, %v; want it kept unbound", top, err)
	}
	// Renaming it moves its folded name too.
	_, err = s.UpdateRealm(ctx, "r1", func(x *store.Realm) error { x.Name = "renamed"; return nil })
	must(t, err)
	must(t, s.CreateRealm(ctx, store.Realm{ID: "r2", Name: "demo"}))

	if tok, err := s.GetKnoxToken(ctx, "r1", "legacy"); err != nil || tok.Username != "alice" {
		t.Fatalf("legacy Knox token = %+v, %v", tok, err)
	}
	if all, err := s.ListKnoxTokens(ctx, "r1", store.KnoxTokenQuery{}); err != nil || len(all) != 1 {
		t.Fatalf("the realm's Knox tokens = %v, %v; want the legacy one", all, err)
	}
	must(t, s.CreateUser(ctx, "r1", store.User{ID: "u-alice", Username: "alice"}))
	for _, q := range []store.KnoxTokenQuery{{UserID: "u-alice"}, {CreatedByID: "u-alice"}, {UserID: "alice"}} {
		if mine, err := s.ListKnoxTokens(ctx, "r1", q); err != nil || len(mine) != 0 {
			t.Errorf("ListKnoxTokens(%+v) = %v, %v; a legacy token belongs to no user", q, mine, err)
		}
	}
	// Nor does it count against the new alice's limit.
	must(t, s.CreateKnoxToken(ctx, "r1", store.KnoxToken{ID: "new", UserID: "u-alice", Username: "alice", Enabled: true},
		store.KnoxTokenLimit{Max: 1, Now: time.Now()}))

	// A replica of version 1 still running while the others upgrade keeps
	// working with its own statements, and what it writes is held to the
	// new rules: its renames keep names unique whatever their case, and
	// its Knox tokens belong to no user.
	for _, sql := range []string{
		`INSERT INTO realms (id, name, data) VALUES ('r3', 'Old', '{"id":"r3","realm":"Old"}')`,
		`UPDATE realms SET name = 'Older', data = '{"id":"r3","realm":"Older"}' WHERE id = 'r3'`,
		`INSERT INTO knox_token_owners (realm_id, username) VALUES ('r1', 'bob')`,
		`INSERT INTO knox_tokens (realm_id, id, username, created_by, expires_at, data)
			VALUES ('r1', 'by-v1', 'bob', 'bob', NULL, '{"id":"by-v1","username":"bob","createdBy":"bob","enabled":true}')`,
		`SELECT data FROM knox_tokens WHERE realm_id = 'r1' AND username = 'alice' ORDER BY id`,
	} {
		_, err := conn.Exec(ctx, sql)
		must(t, err)
	}
	must(t, s.CreateRealm(ctx, store.Realm{ID: "r4", Name: "old"}))
	err = s.CreateRealm(ctx, store.Realm{ID: "r5", Name: "OLDER"})
	if !errors.As(err, &ce) || ce.Kind != "realm" || ce.Field != "name" {
		t.Fatalf("another spelling of a name a version-1 replica gave: %v, want a realm name conflict", err)
	}
	if all, err := s.ListKnoxTokens(ctx, "r1", store.KnoxTokenQuery{}); err != nil || len(all) != 3 {
		t.Fatalf("the realm's Knox tokens = %v, %v; want legacy, new and by-v1", all, err)
	}
	// The version-1 replica still finds this binary's tokens by name.
	var n int
	must(t, conn.QueryRow(ctx, `SELECT count(*) FROM knox_tokens WHERE realm_id = 'r1' AND username = 'alice'`).Scan(&n))
	if n != 2 {
		t.Errorf("version-1 lookup of alice's tokens found %d rows, want legacy and new", n)
	}
}

// One provider account links to one user, also when replicas link it to
// different users at once: one link wins, the others are conflicts that
// leave their users unlinked, and both replicas agree on the owner.
func TestPostgresReplicasLinkAccountOnce(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	must(t, rs[0].CreateIdentityProvider(ctx, "r1", store.IdentityProvider{Alias: "cp", ProviderID: "oidc"}))
	const n = 8
	for i := range n {
		must(t, rs[0].CreateUser(ctx, "r1", store.User{ID: fmt.Sprint("linked-", i), Username: fmt.Sprint("user", i)}))
	}
	errs := race(rs, n, func(s *postgres.Store, i int) error {
		_, err := s.UpdateUser(ctx, "r1", fmt.Sprint("linked-", i), func(u *store.User) error {
			u.FederatedIdentities = []store.FederatedIdentity{{IdentityProvider: "cp", UserID: "acct"}}
			return nil
		})
		return err
	})
	wantOneWinner(t, "links", errs, func(err error) bool {
		var ce *store.ConflictError
		return errors.As(err, &ce) && ce.Field == "federatedIdentity"
	})
	winner := ""
	for i, err := range errs {
		if err == nil {
			winner = fmt.Sprint("linked-", i)
		}
	}
	for i, s := range rs {
		if u, err := s.GetUserByFederatedIdentity(ctx, "r1", "cp", "acct"); err != nil || u.ID != winner {
			t.Errorf("replica %d: the account's user = %q, %v; want %q", i, u.ID, err, winner)
		}
	}
	for i := range n {
		u, err := rs[1].GetUser(ctx, "r1", fmt.Sprint("linked-", i))
		must(t, err)
		if linked := len(u.FederatedIdentities) > 0; linked != (u.ID == winner) {
			t.Errorf("user %s: links %v, winner %q", u.ID, u.FederatedIdentities, winner)
		}
	}
}
