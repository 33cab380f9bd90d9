package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// Login events live in a realm sub-bucket created on first write, so realms
// made before events existed need no layout change.
var bLoginEvents = []byte("login_events")

// loginEventKey orders events by time: be64(unix nanos) | id.
func loginEventKey(e store.LoginEvent) []byte {
	k := make([]byte, 8, 8+len(e.ID))
	binary.BigEndian.PutUint64(k, uint64(e.Time.UnixNano()))
	return append(k, e.ID...)
}

func (s *Store) AppendLoginEvents(ctx context.Context, realmID string, events []store.LoginEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	raws := make([][]byte, len(events))
	for i, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		raws[i] = raw
	}
	return s.batchRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b, err := rb.CreateBucketIfNotExists(bLoginEvents)
		if err != nil {
			return err
		}
		for i, e := range events {
			if err := b.Put(loginEventKey(e), raws[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) ListLoginEvents(_ context.Context, realmID string, q store.LoginEventQuery) ([]store.LoginEvent, error) {
	var out []store.LoginEvent
	err := s.viewRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		b := rb.Bucket(bLoginEvents)
		if b == nil {
			return nil
		}
		pg := newPager(q.Page)
		c := b.Cursor()
		for k, v := c.Last(); k != nil && !pg.full(); k, v = c.Prev() {
			if len(k) < 8 {
				return fmt.Errorf("corrupt login event key %x", k)
			}
			t := time.Unix(0, int64(binary.BigEndian.Uint64(k)))
			if !q.To.IsZero() && t.After(q.To) {
				continue
			}
			if !q.From.IsZero() && t.Before(q.From) {
				break
			}
			var e store.LoginEvent
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("corrupt login event: %w", err)
			}
			if (len(q.Types) > 0 && !slices.Contains(q.Types, e.Type)) || (q.ClientID != "" && e.ClientID != q.ClientID) ||
				(q.UserID != "" && e.UserID != q.UserID) || (q.IPAddress != "" && e.IPAddress != q.IPAddress) {
				continue
			}
			if pg.take() {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

func (s *Store) DeleteLoginEvents(ctx context.Context, realmID string, before time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.updateRealm(realmID, func(tx *bbolt.Tx, rb *bbolt.Bucket) error {
		n = 0
		b := rb.Bucket(bLoginEvents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n < limit; k, _ = c.First() {
			if !before.IsZero() && len(k) >= 8 && !time.Unix(0, int64(binary.BigEndian.Uint64(k))).Before(before) {
				return nil
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
