package bolt

import (
	"context"
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
)

// The Each methods walk records that store.Store reaches only through a
// secret's hash or an owner (sessions, refresh tokens, codes, revoked
// access tokens, nonces), or only in pages whose offsets cost a scan from
// the start each (users, events), so that `gatehouse migrate` can copy a
// whole store in one pass. They read one snapshot of the realm, in key
// order; fn runs inside the read transaction and must not write to this
// store.

// EachUser calls fn with every user of the realm, service accounts
// included.
func (s *Store) EachUser(ctx context.Context, realmID string, fn func(store.User) error) error {
	return eachRow(ctx, s, realmID, bUsers, fn)
}

// EachAdminEvent calls fn with every admin event of the realm, oldest
// first.
func (s *Store) EachAdminEvent(ctx context.Context, realmID string, fn func(store.AdminEvent) error) error {
	return eachRow(ctx, s, realmID, bAdminEvents, fn)
}

// EachLoginEvent calls fn with every login event of the realm, oldest
// first.
func (s *Store) EachLoginEvent(ctx context.Context, realmID string, fn func(store.LoginEvent) error) error {
	return eachRow(ctx, s, realmID, bLoginEvents, fn)
}

// EachSession calls fn with every session of the realm.
func (s *Store) EachSession(ctx context.Context, realmID string, fn func(store.Session) error) error {
	return eachRow(ctx, s, realmID, bSessions, fn)
}

// EachRefreshToken calls fn with every refresh-token row of the realm,
// including rows of ended sessions not yet removed by the janitor.
func (s *Store) EachRefreshToken(ctx context.Context, realmID string, fn func(store.RefreshToken) error) error {
	return eachRow(ctx, s, realmID, bRT, fn)
}

// EachAuthCode calls fn with every authorization code of the realm.
func (s *Store) EachAuthCode(ctx context.Context, realmID string, fn func(store.AuthCode) error) error {
	return eachRow(ctx, s, realmID, bCodes, fn)
}

// EachDeviceCode calls fn with every device authorization request of the
// realm.
func (s *Store) EachDeviceCode(ctx context.Context, realmID string, fn func(store.DeviceCode) error) error {
	return eachRow(ctx, s, realmID, bDevice, fn)
}

// EachRevokedAccessToken calls fn with every revoked access-token ID of the
// realm and the time its record may go.
func (s *Store) EachRevokedAccessToken(ctx context.Context, realmID string, fn func(jti string, exp time.Time) error) error {
	return eachExpiry(ctx, s, realmID, bRevokedJTI, fn)
}

// EachNonce calls fn with every claimed single-use value of the realm and
// its expiry.
func (s *Store) EachNonce(ctx context.Context, realmID string, fn func(nonce string, exp time.Time) error) error {
	return eachExpiry(ctx, s, realmID, bNonces, fn)
}

func eachRow[T any](ctx context.Context, s *Store, realmID string, bucket []byte, fn func(T) error) error {
	return s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		b := sub(rb, bucket)
		if b == nil { // created on first use (login events)
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			var v T
			if err := getRow(b, string(k), &v); err != nil {
				return err
			}
			return fn(v)
		})
	})
}

// eachExpiry walks a bucket whose values are big-endian expiry times in
// nanoseconds (revoked_jti, nonces).
func eachExpiry(ctx context.Context, s *Store, realmID string, bucket []byte, fn func(string, time.Time) error) error {
	return s.viewRealm(realmID, func(_ *bbolt.Tx, rb *bbolt.Bucket) error {
		return sub(rb, bucket).ForEach(func(k, v []byte) error {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if len(v) != 8 {
				return nil
			}
			return fn(string(k), time.Unix(0, int64(binary.BigEndian.Uint64(v))))
		})
	})
}
