package knox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/knox"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// knoxService is knox.Tokens under a name that does not hide its Tokens
// method when embedded.
type knoxService = knox.Tokens

// failingTokens is a Knox service whose store fails with err; only
// TopologyRealm is reached.
type failingTokens struct {
	knoxService
	err error
}

func (f failingTokens) TopologyRealm(context.Context, string) (store.Topology, *realms.RealmState, error) {
	return store.Topology{}, nil, f.err
}

// A store that cannot answer makes Knox answer 503 (a replica whose
// database went away, so the load balancer retries elsewhere), any other
// failure 500: never a 404 that would tell the caller the topology is gone.
func TestKnoxStoreFailureAnswers(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"store unavailable", fmt.Errorf("connection refused: %w", store.ErrUnavailable), http.StatusServiceUnavailable, "temporarily_unavailable"},
		{"other failure", errors.New("corrupt row"), http.StatusInternalServerError, "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := oidc.NewServer(oidc.Config{Service: e.svc})
			knox.Mount(srv, failingTokens{err: tc.err}, e.svc, nil)
			hs := httptest.NewServer(srv)
			defer hs.Close()
			for _, path := range []string{"token", "jwks.json", "token/renew"} {
				method := http.MethodGet
				if path == "token/renew" {
					method = http.MethodPost
				}
				r := e.knox(method, hs.URL+"/gateway/authtkn/knoxtoken/api/v1/"+path, "alice", alicePassword, "", "id")
				if r.Status != tc.status || r.Str("error") != tc.code {
					t.Errorf("%s %s: %d %s, want %d %s", method, path, r.Status, r.Raw, tc.status, tc.code)
				}
			}
		})
	}
}
