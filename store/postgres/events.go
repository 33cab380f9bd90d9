package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatehouse/gatehouse/store"
)

func (s *Store) AppendAdminEvent(ctx context.Context, realmID string, e store.AdminEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID, e.ID) {
		return errUnstorable(realmID, e.ID)
	}
	raw, err := encode(e)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO admin_events (realm_id, at_ns, id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (realm_id, at_ns, id) DO UPDATE SET data = excluded.data`, realmID, e.Time.UnixNano(), e.ID, raw)
	return s.err(err)
}

func (s *Store) ListAdminEvents(ctx context.Context, realmID string, q store.Page) ([]store.AdminEvent, error) {
	if !storable(realmID) {
		return nil, store.ErrNotFound
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	offset, limit := window(q)
	out, err := listData[store.AdminEvent](ctx, db, `SELECT data FROM admin_events WHERE realm_id = $1
		ORDER BY at_ns DESC, id DESC OFFSET $2 LIMIT $3`, realmID, offset, limit)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) DeleteAdminEvents(ctx context.Context, realmID string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if !storable(realmID) {
		return store.ErrNotFound
	}
	tag, err := s.exec(ctx, `DELETE FROM admin_events WHERE realm_id = $1`, realmID)
	if err != nil {
		return s.err(err)
	}
	if tag.RowsAffected() == 0 {
		return s.realmExists(ctx, realmID)
	}
	return nil
}

// realmExists is realmExists on the pool, errors mapped.
func (s *Store) realmExists(ctx context.Context, realmID string) error {
	db, err := s.db()
	if err != nil {
		return err
	}
	return s.err(realmExists(ctx, db, realmID))
}

// AppendLoginEvents stores the batch as one pipelined transaction. An event
// stored again under its time and ID replaces the first, as in bbolt.
func (s *Store) AppendLoginEvents(ctx context.Context, realmID string, events []store.LoginEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	if !storable(realmID) {
		return store.ErrNotFound
	}
	stmts := make([]stmt, 0, len(events))
	for _, e := range events {
		if !storable(e.ID, e.Type, e.ClientID, e.UserID, e.IPAddress) {
			return errUnstorable(e.ID, e.Type, e.ClientID, e.UserID, e.IPAddress)
		}
		raw, err := encode(e)
		if err != nil {
			return err
		}
		stmts = append(stmts, stmt{`INSERT INTO login_events (realm_id, at_ns, id, type, client_id, user_id, ip_address, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (realm_id, at_ns, id) DO UPDATE SET type = excluded.type,
			client_id = excluded.client_id, user_id = excluded.user_id, ip_address = excluded.ip_address, data = excluded.data`,
			[]any{realmID, e.Time.UnixNano(), e.ID, e.Type, e.ClientID, e.UserID, e.IPAddress, raw}})
	}
	_, err := s.pipeline(ctx, stmts...)
	return s.err(err)
}

func (s *Store) ListLoginEvents(ctx context.Context, realmID string, q store.LoginEventQuery) ([]store.LoginEvent, error) {
	if !storable(realmID) {
		return nil, store.ErrNotFound
	}
	if !storable(q.ClientID, q.UserID, q.IPAddress) || !storable(q.Types...) {
		// No stored event has such a value.
		return nil, s.realmExists(ctx, realmID)
	}
	db, err := s.db()
	if err != nil {
		return nil, err
	}
	where := []string{"realm_id = $1"}
	args := []any{realmID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(q.Types) > 0 {
		where = append(where, "type = ANY("+arg(q.Types)+")")
	}
	for _, f := range []struct{ column, want string }{{"client_id", q.ClientID}, {"user_id", q.UserID}, {"ip_address", q.IPAddress}} {
		if f.want != "" {
			where = append(where, f.column+" = "+arg(f.want))
		}
	}
	if !q.From.IsZero() {
		where = append(where, "at_ns >= "+arg(q.From.UnixNano()))
	}
	if !q.To.IsZero() {
		where = append(where, "at_ns <= "+arg(q.To.UnixNano()))
	}
	offset, limit := window(q.Page)
	sql := `SELECT data FROM login_events WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY at_ns DESC, id DESC OFFSET ` + arg(offset) + ` LIMIT ` + arg(limit)
	out, err := listData[store.LoginEvent](ctx, db, sql, args...)
	return emptyOrMissing(ctx, s, db, realmID, out, err)
}

func (s *Store) DeleteLoginEvents(ctx context.Context, realmID string, before time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if !storable(realmID) {
		return 0, store.ErrNotFound
	}
	cutoff := pgtype.Int8{Int64: before.UnixNano(), Valid: !before.IsZero()}
	tag, err := s.exec(ctx, `DELETE FROM login_events WHERE (realm_id, at_ns, id) IN
		(SELECT realm_id, at_ns, id FROM login_events WHERE realm_id = $1 AND ($2::bigint IS NULL OR at_ns < $2)
		ORDER BY at_ns, id LIMIT $3)`, realmID, cutoff, max(limit, 0))
	if err != nil {
		return 0, s.err(err)
	}
	n := int(tag.RowsAffected())
	if n == 0 {
		return 0, s.realmExists(ctx, realmID)
	}
	return n, nil
}
