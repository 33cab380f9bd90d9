package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

var bAdminEvents = []byte("admin_events")

// eventKey orders events by time: be64(unix nanos) | id.
func eventKey(e store.AdminEvent) []byte {
	k := make([]byte, 8, 8+len(e.ID))
	binary.BigEndian.PutUint64(k, uint64(e.Time.UnixNano()))
	return append(k, e.ID...)
}

func (s *Store) AppendAdminEvent(ctx context.Context, realmID string, e store.AdminEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return sub(rb, bAdminEvents).Put(eventKey(e), raw)
	})
}

func (s *Store) ListAdminEvents(_ context.Context, realmID string, q store.Page) ([]store.AdminEvent, error) {
	var out []store.AdminEvent
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bAdminEvents)
		pg := newPager(q)
		c := b.Cursor()
		for k, v := c.Last(); k != nil && !pg.full(); k, v = c.Prev() {
			if !pg.take() {
				continue
			}
			var e store.AdminEvent
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("corrupt admin event: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func (s *Store) DeleteAdminEvents(ctx context.Context, realmID string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		if err := rb.DeleteBucket(bAdminEvents); err != nil {
			return err
		}
		_, err := rb.CreateBucket(bAdminEvents)
		return err
	})
}
