package bolt_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/storetest"
)

// Verify accepts an online backup without changing a byte of it, counts its
// realms, and rejects files that are not a whole Gatehouse store.
func TestVerifyBackupReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "gatehouse.db"))
	storetest.Seed(t, s)
	must(t, s.CreateRealm(ctx, store.Realm{ID: "r2", Name: "other", Enabled: true}))
	var buf bytes.Buffer
	_, err := s.Backup(&buf)
	must(t, err)
	must(t, s.Close())

	good := filepath.Join(dir, "good.db")
	must(t, os.WriteFile(good, buf.Bytes(), 0o400))
	truncated := filepath.Join(dir, "truncated.db")
	must(t, os.WriteFile(truncated, buf.Bytes()[:buf.Len()/2], 0o600))
	corrupt := filepath.Join(dir, "corrupt.db")
	bad := bytes.Clone(buf.Bytes())
	for i := 16; i < 2*4096; i++ { // both meta pages, past bbolt's page header
		bad[i] ^= 0xff
	}
	must(t, os.WriteFile(corrupt, bad, 0o600))
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }))
	must(t, db.Close())

	for _, tc := range []struct {
		name   string
		path   string
		ok     bool
		realms int
	}{
		{"backup", good, true, 2},
		{"truncated", truncated, false, 0},
		{"meta pages corrupt", corrupt, false, 0},
		{"not a gatehouse store", foreign, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := os.ReadFile(tc.path)
			must(t, err)
			sum, err := bolt.Verify(tc.path)
			if tc.ok != (err == nil) {
				t.Fatalf("Verify: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (sum.Realms != tc.realms || sum.Buckets < 2+tc.realms) {
				t.Errorf("summary %+v, want %d realms", sum, tc.realms)
			}
			after, err := os.ReadFile(tc.path)
			must(t, err)
			if !bytes.Equal(before, after) {
				t.Error("Verify changed the file")
			}
		})
	}
}
