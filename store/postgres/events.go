package postgres

import (
	"context"

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
