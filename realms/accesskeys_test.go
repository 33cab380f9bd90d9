package realms

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

func (c *readCounter) GetAccessKey(ctx context.Context, realmID, id string) (store.AccessKey, error) {
	c.reads.Add(1)
	return c.Store.GetAccessKey(ctx, realmID, id)
}

// A request dated outside the window is refused before the key is read,
// so a flood of stale requests costs no store reads; a malformed
// x-altus-auth likewise.
func TestSignedRequestRefusedBeforeAnyStoreRead(t *testing.T) {
	e := newKeyEnv(t, store.Realm{})
	ctx := context.Background()
	k, _, err := e.svc.CreateAccessKey(ctx, "demo", e.alice.ID, NewAccessKey{Type: AccessKeyEd25519}, Actor{})
	if err != nil {
		t.Fatal(err)
	}
	noKeyID := base64.URLEncoding.EncodeToString([]byte(`{"access_key_id":"","auth_method":"ed25519v1"}`)) + ".AAAA"
	for name, req := range map[string]SignedRequest{
		"6 minutes old":     {Method: "POST", Date: e.now.Add(-6 * time.Minute).Format(http.TimeFormat), Auth: "x.y"},
		"6 minutes ahead":   {Method: "POST", Date: e.now.Add(6 * time.Minute).Format(http.TimeFormat), Auth: "x.y"},
		"not RFC 1123":      {Method: "POST", Date: e.now.Format(time.RFC3339), Auth: "x.y"},
		"no date":           {Method: "POST", Auth: "x.y"},
		"no key ID":         {Method: "POST", Date: e.now.Format(http.TimeFormat), Auth: noKeyID},
		"no dot":            {Method: "POST", Date: e.now.Format(http.TimeFormat), Auth: "abc"},
		"not base64 inside": {Method: "POST", Date: e.now.Format(http.TimeFormat), Auth: "%%%.%%%"},
	} {
		before := e.st.reads.Load()
		_, _, err := e.svc.AuthenticateSignedRequest(ctx, e.realm, req)
		if !errors.Is(err, ErrSignatureDate) && !errors.Is(err, ErrSignatureInvalid) {
			t.Errorf("%s: %v", name, err)
		}
		if n := e.st.reads.Load() - before; n != 0 {
			t.Errorf("%s: %d store reads, want none", name, n)
		}
	}
	// The counter does see the read of a well-formed request.
	before := e.st.reads.Load()
	head := base64.URLEncoding.EncodeToString([]byte(`{"access_key_id":"` + k.ID + `","auth_method":"ed25519v1"}`))
	_, _, err = e.svc.AuthenticateSignedRequest(ctx, e.realm, SignedRequest{Method: "POST", Date: e.now.Format(http.TimeFormat), Auth: head + ".AAAA"})
	if !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("a wrong signature: %v", err)
	}
	if e.st.reads.Load() == before {
		t.Fatal("no read counted for a well-formed request: the counter measures nothing")
	}
}
