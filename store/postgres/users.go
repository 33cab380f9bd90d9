package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/store"
)

func lower(s string) string { return strings.ToLower(s) }

func userConflicts(u store.User) conflicts {
	return conflicts{
		"users_username_key": {Kind: "user", Field: "username", Value: u.Username},
		"users_email_key":    {Kind: "user", Field: "email", Value: u.Email},
		"users_pkey":         {Kind: "user", Field: "id", Value: u.ID},
	}
}

// userColumns are the queried columns of a user row, after realm_id and id.
func userColumns(u store.User) ([]any, error) {
	if !storable(u.Username, u.Email, u.FirstName, u.LastName, u.ServiceAccountClientID) {
		return nil, errUnstorable(u.Username, u.Email, u.FirstName, u.LastName, u.ServiceAccountClientID)
	}
	raw, err := encode(u)
	if err != nil {
		return nil, err
	}
	return []any{lower(u.Username), nullIfEmpty(lower(u.Email)), lower(u.FirstName), lower(u.LastName),
		u.Enabled, nullIfEmpty(u.ServiceAccountClientID), raw}, nil
}

const insertUser = `INSERT INTO users (realm_id, id, username_lower, email_lower, first_lower, last_lower, enabled, sa_client_id, data)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func (s *Store) CreateUser(ctx context.Context, realmID string, u store.User) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.CreateUsers(ctx, realmID, []store.User{u})
}

// CreateUsers bulk-loads users into a realm in one transaction (all or
// none), with exactly the rows and conflict checks of CreateUser, as the
// bbolt backend's method of the same name.
func (s *Store) CreateUsers(ctx context.Context, realmID string, users []store.User) error {
	if !storable(realmID) {
		return errUnstorable(realmID)
	}
	var stmts []stmt
	var cs []conflicts // the conflicts of each statement
	for _, u := range users {
		us, ucs, err := userInserts(realmID, u)
		if err != nil {
			return err
		}
		stmts, cs = append(stmts, us...), append(cs, ucs...)
	}
	return s.pipelineConflicts(ctx, stmts, cs)
}

// userInserts are the statements storing a new user (its row and its
// federated identity links), each with its conflicts.
func userInserts(realmID string, u store.User) ([]stmt, []conflicts, error) {
	if !storable(u.ID) {
		return nil, nil, errUnstorable(u.ID)
	}
	cols, err := userColumns(u)
	if err != nil {
		return nil, nil, err
	}
	links, linkConflicts, err := linkInserts(realmID, u)
	if err != nil {
		return nil, nil, err
	}
	return append([]stmt{{insertUser, append([]any{realmID, u.ID}, cols...)}}, links...),
		append([]conflicts{userConflicts(u)}, linkConflicts...), nil
}

// pipelineConflicts sends stmts as one pipelined transaction; a unique
// violation is the ConflictError of the statement that failed (cs is
// parallel to stmts).
func (s *Store) pipelineConflicts(ctx context.Context, stmts []stmt, cs []conflicts) error {
	i, err := s.pipeline(ctx, stmts...)
	if i >= 0 {
		return s.err(conflict(err, cs[i]))
	}
	return s.err(err)
}

func linkTaken(alias string) *store.ConflictError {
	return &store.ConflictError{Kind: "user", Field: "federatedIdentity", Value: alias}
}

// linkInserts are the statements storing u's federated identity links in
// their index, each with the conflict its unique keys stand for: the
// provider account linked to another user, or a second link of u to one
// provider (refused here already, as the bbolt backend does).
func linkInserts(realmID string, u store.User) ([]stmt, []conflicts, error) {
	var stmts []stmt
	var cs []conflicts
	seen := map[string]bool{}
	for _, f := range u.FederatedIdentities {
		if !storable(f.IdentityProvider, f.UserID) {
			return nil, nil, errUnstorable(f.IdentityProvider, f.UserID)
		}
		if seen[f.IdentityProvider] {
			return nil, nil, linkTaken(f.IdentityProvider)
		}
		seen[f.IdentityProvider] = true
		taken := linkTaken(f.IdentityProvider)
		stmts = append(stmts, stmt{`INSERT INTO federated_identities (realm_id, alias, provider_user_id, user_id) VALUES ($1, $2, $3, $4)`,
			[]any{realmID, f.IdentityProvider, f.UserID, u.ID}})
		cs = append(cs, conflicts{"federated_identities_pkey": taken, "federated_identities_user_alias_key": taken})
	}
	return stmts, cs, nil
}

// sameLinks reports whether two lists of links index the same accounts
// (display names aside).
func sameLinks(a, b []store.FederatedIdentity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IdentityProvider != b[i].IdentityProvider || a[i].UserID != b[i].UserID {
			return false
		}
	}
	return true
}

func (s *Store) GetUserByFederatedIdentity(ctx context.Context, realmID, alias, providerUserID string) (store.User, error) {
	var u store.User
	if !storable(realmID, alias, providerUserID) {
		return u, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return u, err
	}
	err = getData(ctx, db, &u, `SELECT u.data FROM federated_identities f
		JOIN users u ON u.realm_id = f.realm_id AND u.id = f.user_id
		WHERE f.realm_id = $1 AND f.alias = $2 AND f.provider_user_id = $3`, realmID, alias, providerUserID)
	return u, s.err(err)
}

func (s *Store) getUser(ctx context.Context, realmID, column, key string) (store.User, error) {
	var u store.User
	if !storable(realmID, key) {
		return u, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return u, err
	}
	err = getData(ctx, db, &u, `SELECT data FROM users WHERE realm_id = $1 AND `+column+` = $2`, realmID, key)
	return u, s.err(err)
}

func (s *Store) GetUser(ctx context.Context, realmID, id string) (store.User, error) {
	return s.getUser(ctx, realmID, "id", id)
}

func (s *Store) GetUserByUsername(ctx context.Context, realmID, username string) (store.User, error) {
	return s.getUser(ctx, realmID, "username_lower", lower(username))
}

func (s *Store) GetUserByEmail(ctx context.Context, realmID, email string) (store.User, error) {
	if email == "" {
		return store.User{}, store.ErrNotFound
	}
	return s.getUser(ctx, realmID, "email_lower", lower(email))
}

// userFilter is the WHERE clause and arguments of a user query; $1 is the
// realm. Matching is on the lower-cased columns with lower-cased needles,
// so it is Go's case folding, as in the bbolt backend. Filters on fields
// kept only in the JSON row are userMatches', applied after.
func userFilter(realmID string, q store.UserQuery) (string, []any) {
	where := []string{"realm_id = $1"}
	args := []any{realmID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !q.ServiceAccounts {
		where = append(where, "sa_client_id IS NULL")
	}
	if q.Enabled != nil {
		where = append(where, "enabled = "+arg(*q.Enabled))
	}
	for _, f := range []struct{ column, want string }{
		{"username_lower", q.Username}, {"email_lower", q.Email}, {"first_lower", q.FirstName}, {"last_lower", q.LastName},
	} {
		switch {
		case f.want == "":
		case q.Exact:
			where = append(where, f.column+" = "+arg(lower(f.want)))
		default:
			where = append(where, "strpos("+f.column+", "+arg(lower(f.want))+") > 0")
		}
	}
	if q.Search != "" {
		op, needle := searchPattern(q.Search)
		n := arg(needle)
		where = append(where, fmt.Sprintf("(username_lower %[1]s %[2]s OR coalesce(email_lower, '') %[1]s %[2]s OR first_lower %[1]s %[2]s OR last_lower %[1]s %[2]s)", op, n))
	}
	if q.IDPAlias != "" {
		where = append(where, `EXISTS (SELECT 1 FROM federated_identities f WHERE f.realm_id = users.realm_id AND f.user_id = users.id
			AND f.alias = `+arg(q.IDPAlias)+` AND (`+arg(q.IDPUserID)+` = '' OR f.provider_user_id = `+arg(q.IDPUserID)+`))`)
	}
	return strings.Join(where, " AND "), args
}

// searchPattern is store.MatchSearch as an SQL comparison of a lower-cased
// column: a quoted pattern is equality, any other a LIKE pattern anchored
// at the start, its "*" any run of characters (MatchSearch's in-order
// matching of the parts is what LIKE's % does).
func searchPattern(pattern string) (op, needle string) {
	p := lower(pattern)
	if len(p) >= 2 && strings.HasPrefix(p, `"`) && strings.HasSuffix(p, `"`) {
		return "=", p[1 : len(p)-1]
	}
	parts := strings.Split(p, "*")
	for i, part := range parts {
		parts[i] = likeEscaper.Replace(part)
	}
	return "LIKE", strings.Join(parts, "%") + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// userMatches applies the filters on fields that have no column (roles,
// groups, attributes); nil when the query has none.
func userMatches(q store.UserQuery) func(store.User) bool {
	if q.RoleID == "" && q.GroupID == "" && len(q.Attributes) == 0 {
		return nil
	}
	return func(u store.User) bool {
		if q.RoleID != "" && !slices.Contains(u.RoleIDs, q.RoleID) {
			return false
		}
		if q.GroupID != "" && !slices.Contains(u.GroupIDs, q.GroupID) {
			return false
		}
		for k, v := range q.Attributes {
			if !slices.Contains(u.Attributes[k], v) {
				return false
			}
		}
		return true
	}
}

func userQueryStorable(realmID string, q store.UserQuery) bool {
	return storable(realmID, q.Username, q.Email, q.FirstName, q.LastName, q.Search, q.IDPAlias, q.IDPUserID)
}

func (s *Store) ListUsers(ctx context.Context, realmID string, q store.UserQuery) ([]store.User, error) {
	if !userQueryStorable(realmID, q) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	where, args := userFilter(realmID, q)
	offset, limit := window(q.Page)
	match := userMatches(q)
	if match == nil {
		args = append(args, offset, limit)
		out, err := listData[store.User](ctx, db, fmt.Sprintf(`SELECT data FROM users WHERE %s ORDER BY username_lower OFFSET $%d LIMIT $%d`,
			where, len(args)-1, len(args)), args...)
		return emptyOrMissing(ctx, s, db, realmID, out, err)
	}
	var out []store.User
	skipped := 0
	err = scanUsers(ctx, db, where, args, func(u store.User) bool {
		if !match(u) {
			return true
		}
		if skipped < offset {
			skipped++
			return true
		}
		out = append(out, u)
		return len(out) < limit
	})
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

// scanUsers decodes the users matching where in username order, calling fn
// until it returns false.
func scanUsers(ctx context.Context, db querier, where string, args []any, fn func(store.User) bool) error {
	rows, err := db.Query(ctx, `SELECT data FROM users WHERE `+where+` ORDER BY username_lower`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		var u store.User
		if err := decode(raw, &u); err != nil {
			return err
		}
		if !fn(u) {
			return nil
		}
	}
	return rows.Err()
}

func (s *Store) CountUsers(ctx context.Context, realmID string, q store.UserQuery) (int, error) {
	if !userQueryStorable(realmID, q) {
		return 0, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return 0, err
	}
	where, args := userFilter(realmID, q)
	var n int
	if match := userMatches(q); match == nil {
		err = db.QueryRow(ctx, `SELECT count(*) FROM users WHERE `+where, args...).Scan(&n)
	} else {
		err = scanUsers(ctx, db, where, args, func(u store.User) bool {
			if match(u) {
				n++
			}
			return true
		})
	}
	if err != nil {
		return 0, s.err(err)
	}
	if n == 0 {
		if err := realmExists(ctx, db, realmID); err != nil {
			return 0, s.err(err)
		}
	}
	return n, nil
}

func (s *Store) UpdateUser(ctx context.Context, realmID, id string, fn func(*store.User) error) (store.User, error) {
	if err := ctxErr(ctx); err != nil {
		return store.User{}, err
	}
	if !storable(realmID, id) {
		return store.User{}, store.ErrNotFound
	}
	var out store.User
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var u store.User
		if err := getData(ctx, tx, &u, `SELECT data FROM users WHERE realm_id = $1 AND id = $2 FOR UPDATE`, realmID, id); err != nil {
			return err
		}
		oldLinks := slices.Clone(u.FederatedIdentities)
		if err := fn(&u); err != nil {
			return err
		}
		u.ID = id
		cols, err := userColumns(u)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET username_lower = $3, email_lower = $4, first_lower = $5, last_lower = $6,
			enabled = $7, sa_client_id = $8, data = $9 WHERE realm_id = $1 AND id = $2`, append([]any{realmID, id}, cols...)...)
		if err != nil {
			return conflict(err, userConflicts(u))
		}
		if !sameLinks(oldLinks, u.FederatedIdentities) {
			links, cs, err := linkInserts(realmID, u)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM federated_identities WHERE realm_id = $1 AND user_id = $2`, realmID, id); err != nil {
				return err
			}
			for i, l := range links {
				if _, err := tx.Exec(ctx, l.sql, l.args...); err != nil {
					return conflict(err, cs[i])
				}
			}
		}
		out = u
		return nil
	})
	return out, err
}

func (s *Store) DeleteUser(ctx context.Context, realmID, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, id) {
		return store.ErrNotFound
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := deleteOne(ctx, tx, `DELETE FROM users WHERE realm_id = $1 AND id = $2`, realmID, id); err != nil {
			return err
		}
		// Its sessions; their refresh tokens cascade, as its federated
		// identity links and keys cascade from the user row.
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE realm_id = $1 AND user_id = $2`, realmID, id)
		return err
	})
}
