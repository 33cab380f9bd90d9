package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/postgres"
	"github.com/gatehouse/gatehouse/store/postgres/pgtest"
	"github.com/gatehouse/gatehouse/store/storetest"
)

var ctx = context.Background()

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replicas opens n stores on one fresh schema: n Gatehouse processes
// sharing a database, as far as the store can tell.
func replicas(t testing.TB, n int) []*postgres.Store {
	t.Helper()
	u := pgtest.URL(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		out[i] = open(t, u)
		t.Cleanup(func() { out[i].Close() })
	}
	return out
}

func TestPostgresConformance(t *testing.T) {
	pgtest.Require(t)
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return open(t, pgtest.URL(t))
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errOf[T any](_ T, err error) error { return err }

// Two replicas rotating one refresh token at once: exactly one wins, and
// the losers' reuse detection revokes the whole family on both.
func TestPostgresReplicasRotateOnce(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	now := time.Now()
	for round := range 5 {
		sid := fmt.Sprint("s", round)
		rt := storetest.StartSession(t, rs[0], sid, now.Add(time.Hour))
		const n = 8
		errs := race(rs, n, func(s *postgres.Store, i int) error {
			next := store.RefreshToken{Hash: fmt.Sprintf("%s-next-%d", sid, i), ExpiresAt: now.Add(time.Hour)}
			_, err := s.RotateRefreshToken(ctx, "r1", rt.Hash, next, store.RotationPolicy{}, now)
			return err
		})
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrTokenReused), errors.Is(err, store.ErrNotFound):
			default:
				t.Errorf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d rotations won, want 1", round, wins)
		}
		for i, s := range rs {
			if _, err := s.GetSession(ctx, "r1", sid); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("round %d: replica %d still sees the session: %v", round, i, err)
			}
			for j := range n {
				if _, err := s.GetRefreshToken(ctx, "r1", fmt.Sprintf("%s-next-%d", sid, j)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("round %d: replica %d still sees minted token %d: %v", round, i, j, err)
				}
			}
		}
	}
}

// Brute-force counters incremented on two replicas at once lose nothing.
func TestPostgresReplicasCountEveryFailure(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := rs[i%2].UpdateLoginFailure(ctx, "r1", "user:u1", func(f *store.LoginFailure) error { f.NumFailures++; return nil })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, s := range rs {
		if f, err := s.GetLoginFailure(ctx, "r1", "user:u1"); err != nil || f.NumFailures != n {
			t.Errorf("replica %d: %d failures counted (%v), want %d", i, f.NumFailures, err, n)
		}
	}
}

// The Knox per-user limit holds when two replicas create a user's tokens at
// once, for a user with no token yet (nothing to lock but the owner row).
func TestPostgresReplicasKnoxLimit(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	now := time.Now()
	for _, tc := range []struct {
		name         string
		removeOldest bool
	}{{"refuse", false}, {"remove oldest", true}} {
		t.Run(tc.name, func(t *testing.T) {
			user := strings.ReplaceAll(tc.name, " ", "-")
			const n = 8
			errs := race(rs, n, func(s *postgres.Store, i int) error {
				tok := store.KnoxToken{ID: fmt.Sprintf("%s-%d", user, i), UserID: user, Username: user, CreatedByID: user, CreatedBy: user,
					IssuedAt: now.Add(time.Duration(i) * time.Millisecond), ExpiresAt: now.Add(time.Hour), Enabled: true}
				return s.CreateKnoxToken(ctx, "r1", tok, store.KnoxTokenLimit{Max: 2, RemoveOldest: tc.removeOldest, Now: now})
			})
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrLimitExceeded) && !tc.removeOldest:
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
			want := 2
			if tc.removeOldest {
				want = n
			}
			if ok != want {
				t.Errorf("%d creations succeeded, want %d", ok, want)
			}
			held, err := rs[1].ListKnoxTokens(ctx, "r1", store.KnoxTokenQuery{UserID: user})
			must(t, err)
			if len(held) != 2 {
				t.Errorf("user holds %d tokens, limit 2: %v", len(held), held)
			}
		})
	}
}

// Replicas starting at once on an empty database: every one migrates or
// waits for the one that does, and each migration is recorded once.
func TestPostgresConcurrentFirstStart(t *testing.T) {
	u := pgtest.URL(t)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(ctx, u, postgres.Options{MaxConns: 2})
			if err == nil {
				err = s.CreateRealm(ctx, store.Realm{ID: fmt.Sprint("r", i), Name: fmt.Sprint("realm", i)})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	conn := connect(t, u)
	var rows, newest int
	must(t, conn.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &newest))
	// Versions may skip numbers (a number is reserved by the branch that
	// claims it), so the rows are counted against the files.
	files, err := os.ReadDir("migrations")
	must(t, err)
	if newest != postgres.SchemaVersion() || rows != len(files) {
		t.Errorf("schema_migrations: %d rows up to version %d, want one per migration file (%d) up to %d", rows, newest, len(files), postgres.SchemaVersion())
	}

	// A database migrated by a newer binary is refused, not misread.
	_, err = conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'future.sql')`, postgres.SchemaVersion()+1)
	must(t, err)
	if s, err := postgres.Open(ctx, u, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open on a newer schema: %v, want a refusal", err)
	}
}

// A session that acknowledges commits before flushing them would break
// "durable before acknowledged": Open refuses it and says how to fix it.
func TestPostgresRefusesAsynchronousCommit(t *testing.T) {
	u := pgtest.URL(t)
	s, err := postgres.Open(ctx, u+"&synchronous_commit=off", postgres.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open accepted synchronous_commit=off")
	}
	if !strings.Contains(err.Error(), "synchronous_commit") {
		t.Errorf("error does not name the setting: %v", err)
	}
	s = open(t, u+"&synchronous_commit=on")
	s.Close()
}

// A search_path naming no existing schema is refused with a message that
// says so, not a driver error about NULL.
func TestPostgresMissingSchema(t *testing.T) {
	u, err := url.Parse(pgtest.Require(t))
	must(t, err)
	q := u.Query()
	q.Set("search_path", "gatehouse_no_such_schema")
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without a schema to create tables in")
	}
	if !strings.Contains(err.Error(), "search_path") {
		t.Errorf("error does not say what is wrong: %v", err)
	}
}

func connect(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, u)
	must(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// Unique violations are the ConflictError bbolt returns: a realm ID is
// never reused, and sessions and tokens are never overwritten.
func TestPostgresConflicts(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	exp := time.Now().Add(time.Hour)
	rt0 := storetest.StartSession(t, s, "s1", exp)
	for _, tc := range []struct {
		name        string
		err         error
		kind, field string
	}{
		{"realm ID", s.CreateRealm(ctx, store.Realm{ID: "r1", Name: "other"}), "realm", "id"},
		{"session ID", s.CreateSession(ctx, "r1", store.Session{ID: "s1", ClientID: "c1", UserID: "u1", ExpiresAt: exp},
			store.RefreshToken{Hash: "fresh", ExpiresAt: exp}), "session", "id"},
		{"first token", s.CreateSession(ctx, "r1", store.Session{ID: "s2", ClientID: "c1", UserID: "u1", ExpiresAt: exp},
			store.RefreshToken{Hash: rt0.Hash, ExpiresAt: exp}), "refresh-token", "hash"},
		{"rotate to itself", errOf(s.RotateRefreshToken(ctx, "r1", rt0.Hash, store.RefreshToken{Hash: rt0.Hash, ExpiresAt: exp},
			store.RotationPolicy{}, time.Now())), "refresh-token", "hash"},
		{"client UUID", s.CreateClient(ctx, "r1", store.Client{ID: "c1", ClientID: "other"}), "client", "id"},
		{"user UUID", s.CreateUser(ctx, "r1", store.User{ID: "u1", Username: "other"}), "user", "id"},
	} {
		var ce *store.ConflictError
		if !errors.As(tc.err, &ce) || !errors.Is(tc.err, store.ErrAlreadyExists) || ce.Kind != tc.kind || ce.Field != tc.field {
			t.Errorf("%s: %v, want a %s conflict on %s", tc.name, tc.err, tc.kind, tc.field)
		}
	}
	wantNotFound(t, map[string]error{
		"other realm":         errOf(s.GetRealm(ctx, "other")),
		"rejected session":    errOf(s.GetSession(ctx, "r1", "s2")),
		"rejected token":      errOf(s.GetRefreshToken(ctx, "r1", "fresh")),
		"rejected client":     errOf(s.GetClientByClientID(ctx, "r1", "other")),
		"rejected user":       errOf(s.GetUserByUsername(ctx, "r1", "other")),
		"write, no realm":     s.CreateClient(ctx, "missing", store.Client{ID: "c", ClientID: "c"}),
		"session, no realm":   s.CreateSession(ctx, "missing", store.Session{ID: "s"}, store.RefreshToken{Hash: "h"}),
		"revoke, no realm":    s.RevokeAccessToken(ctx, "missing", "jti", exp),
		"failure, no realm":   errOf(s.UpdateLoginFailure(ctx, "missing", "user:u1", func(*store.LoginFailure) error { return nil })),
		"list, no realm":      errOf(s.ListClients(ctx, "missing", store.ClientQuery{})),
		"revoked?, no realm":  errOf(s.IsAccessTokenRevoked(ctx, "missing", "jti")),
		"NUL in a username":   errOf(s.GetUserByUsername(ctx, "r1", "ali\x00ce")),
		"bad UTF-8 clientId":  errOf(s.GetClientByClientID(ctx, "r1", "app\xff")),
		"NUL in a token hash": errOf(s.RotateRefreshToken(ctx, "r1", "s1\x00", store.RefreshToken{Hash: "x"}, store.RotationPolicy{}, time.Now())),
	})
	if got, err := s.GetRefreshToken(ctx, "r1", rt0.Hash); err != nil || !got.UsedAt.IsZero() {
		t.Errorf("refused rotation marked the token used: %+v %v", got, err)
	}
}

func wantNotFound(t *testing.T, lookups map[string]error) {
	t.Helper()
	for name, err := range lookups {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

// newStore opens a store on a fresh schema, closed when the test ends.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	s := open(t, pgtest.URL(t))
	t.Cleanup(func() { s.Close() })
	return s
}

// Every replica must seal with the same master key: the first one to start
// records its check value, a different key is refused, the same is fine.
func TestPostgresMasterKeyCheck(t *testing.T) {
	rs := replicas(t, 2)
	must(t, rs[0].CheckMasterKey(ctx, []byte("check-of-key-A")))
	must(t, rs[1].CheckMasterKey(ctx, []byte("check-of-key-A")))
	if err := rs[1].CheckMasterKey(ctx, []byte("check-of-key-B")); !errors.Is(err, postgres.ErrMasterKeyMismatch) {
		t.Fatalf("another key: %v, want ErrMasterKeyMismatch", err)
	}
}

// Calls on a closed store wrap store.ErrUnavailable.
func TestPostgresClosedStoreIsUnavailable(t *testing.T) {
	s := open(t, pgtest.URL(t))
	storetest.Seed(t, s)
	rt := storetest.StartSession(t, s, "s1", time.Now().Add(time.Hour))
	must(t, s.Close())
	for name, err := range unavailableCalls(s, rt) {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed store: %v, want ErrUnavailable", name, err)
		}
	}
}

func unavailableCalls(s store.Store, rt store.RefreshToken) map[string]error {
	now := time.Now()
	return map[string]error{
		"CreateRealm":        s.CreateRealm(ctx, store.Realm{ID: "x", Name: "x"}),
		"UpdateClient":       errOf(s.UpdateClient(ctx, "r1", "c1", func(*store.Client) error { return nil })),
		"CreateSession":      s.CreateSession(ctx, "r1", store.Session{ID: "s2"}, store.RefreshToken{Hash: "h2"}),
		"RotateRefreshToken": errOf(s.RotateRefreshToken(ctx, "r1", rt.Hash, store.RefreshToken{Hash: "h3"}, store.RotationPolicy{}, now)),
		"DeleteSession":      s.DeleteSession(ctx, "r1", "s1"),
		"RevokeAccessToken":  s.RevokeAccessToken(ctx, "r1", "jti", now.Add(time.Hour)),
		"GetClient":          errOf(s.GetClientByClientID(ctx, "r1", "app")),
	}
}

// A database that goes away makes every call wrap store.ErrUnavailable
// (the HTTP layers answer 503), and the store recovers by itself when it is
// back: here the "database" is a TCP proxy in front of it that the test
// cuts and restores.
func TestPostgresUnreachableThenRecovers(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	must(t, err)
	p := pgtest.StartProxy(t, u.Host)
	u.Host = p.Addr
	s := open(t, u.String())
	defer s.Close()
	storetest.Seed(t, s)
	rt := storetest.StartSession(t, s, "s1", time.Now().Add(time.Hour))

	p.Stop()
	for name, err := range unavailableCalls(s, rt) {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the database unreachable: %v, want ErrUnavailable", name, err)
		}
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping with the database unreachable: %v", err)
	}

	// The calls above found the connections broken and dropped them all,
	// so the first call after the database is back already succeeds.
	p.Restart(t)
	must(t, s.RevokeAccessToken(ctx, "r1", "after", time.Now().Add(time.Hour)))
	must(t, s.Ping(ctx))
	if _, err := s.RotateRefreshToken(ctx, "r1", rt.Hash, store.RefreshToken{Hash: "s1-1", ExpiresAt: time.Now().Add(time.Hour)},
		store.RotationPolicy{}, time.Now()); err != nil {
		t.Fatalf("rotation after recovery: %v", err)
	}

	// One broken connection found means all are: with a full pool of idle
	// connections cut, a single failed call is enough for every call after
	// the database is back to get a fresh one.
	parallel := func(call func() error) []error {
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = call() })
		}
		wg.Wait()
		return errs
	}
	for _, err := range parallel(func() error { return s.Ping(ctx) }) {
		must(t, err)
	}
	p.Stop()
	if err := s.RevokeAccessToken(ctx, "r1", "cut", time.Now().Add(time.Hour)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write with the database unreachable: %v", err)
	}
	p.Restart(t)
	for i, err := range parallel(func() error { return errOf(s.GetClientByClientID(ctx, "r1", "app")) }) {
		if err != nil {
			t.Errorf("call %d after the database is back: %v", i, err)
		}
	}
}

// BenchmarkRotateRefreshToken is the refresh hot path on PostgreSQL.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s := newStore(b)
	storetest.BenchRotateRefreshToken(b, s, storetest.Seed(b, s).ID)
}

func BenchmarkGetClientByClientID(b *testing.B) {
	s := newStore(b)
	storetest.BenchGetClientByClientID(b, s, storetest.Seed(b, s).ID, "app")
}

// User search patterns become SQL LIKE patterns: the characters LIKE
// gives a meaning to (%, _ and its escape \) must match only themselves,
// as they do in store.MatchSearch.
func TestPostgresUserSearchLikeMetacharacters(t *testing.T) {
	s := newStore(t)
	storetest.Seed(t, s)
	for _, u := range []store.User{
		{ID: "u2", Username: "a_c"}, {ID: "u3", Username: "abc"},
		{ID: "u4", Username: "50%off"}, {ID: "u5", Username: "50xoff"},
		{ID: "u6", Username: `back\slash`}, {ID: "u7", Username: "backxslash"},
	} {
		must(t, s.CreateUser(ctx, "r1", u))
	}
	for _, tc := range []struct{ search, want string }{
		{"a_", "[a_c]"},
		{"*_c", "[a_c]"},
		{"50%", "[50%off]"},
		{`back\`, `[back\slash]`},
		{`"a_c"`, "[a_c]"},
		{"a*c", "[a_c abc alice]"},
	} {
		users, err := s.ListUsers(ctx, "r1", store.UserQuery{Search: tc.search})
		must(t, err)
		var names []string
		for _, u := range users {
			names = append(names, u.Username)
		}
		if got := fmt.Sprint(names); got != tc.want {
			t.Errorf("search %q = %s, want %s", tc.search, got, tc.want)
		}
	}
}

// Two replicas moving two groups under each other at once: one move wins,
// the other is refused, and the tree never gets a cycle.
func TestPostgresReplicasCrossingGroupMoves(t *testing.T) {
	rs := replicas(t, 2)
	storetest.Seed(t, rs[0])
	for round := range 10 {
		a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
		must(t, rs[0].CreateGroup(ctx, "r1", store.Group{ID: a, Name: a}))
		must(t, rs[0].CreateGroup(ctx, "r1", store.Group{ID: b, Name: b}))
		moves := [][2]string{{a, b}, {b, a}}
		errs := race(rs, len(moves), func(s *postgres.Store, i int) error {
			_, err := s.UpdateGroup(ctx, "r1", moves[i][0], func(g *store.Group) error { g.ParentID = moves[i][1]; return nil })
			return err
		})
		refused := 0
		for _, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, store.ErrInvalidParent):
				refused++
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if refused != 1 {
			t.Fatalf("round %d: %d moves refused, want exactly 1 (errors %v)", round, refused, errs)
		}
	}
}
