package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/seeds"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Admin JSON decoding into every representation, and applying it, never
// panics; decode errors are 400/413 API errors.
func FuzzAdminJSON(f *testing.F) {
	seeds.Load(f, "adminjson")
	f.Fuzz(func(t *testing.T, body string) {
		reps := []func() any{
			func() any { return &realmRep{} }, func() any { return &clientRep{} }, func() any { return &userRep{} },
			func() any { return &roleRep{} }, func() any { return &idpRep{} }, func() any { return &topologyRep{} },
			func() any { return &[]roleRep{} }, func() any { return &passwordRep{} },
		}
		for _, mk := range reps {
			v := mk()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			if err := decode(r, v); err != nil {
				ae, ok := err.(*apiError)
				if !ok || (ae.status != 400 && ae.status != 413) {
					t.Fatalf("decode error %v", err)
				}
				continue
			}
			switch rep := v.(type) {
			case *realmRep:
				var rl store.Realm
				rep.apply(&rl)
				realms.ApplyRealmDefaults(&rl)
				_ = realms.ValidateRealm(&rl)
			case *clientRep:
				var c store.Client
				rep.apply(&c)
				_ = realms.ValidateClient(&c)
			case *userRep:
				var u store.User
				rep.apply(&u)
				_ = realms.ValidateUser(&u)
			case *idpRep:
				p := rep.record()
				_ = realms.ValidateIdentityProvider(&p)
			}
		}
		// The authorization-services representations decode strictly,
		// with their string-or-object fields and config strings.
		authzReps := []func() any{
			func() any { return &authzResourceRep{} }, func() any { return &policyRep{} },
			func() any { return &resourceServerRep{} }, func() any { return &authzScopeRef{} },
		}
		for _, mk := range authzReps {
			v := mk()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			err := decodeKnown(r, v)
			if rep, ok := v.(*policyRep); ok && err == nil {
				err = rep.FromConfig()
				_ = rep.Policy()
			}
			if rep, ok := v.(*authzResourceRep); ok && err == nil {
				_ = rep.Input()
			}
			if err != nil {
				if ae, ok := err.(*apiError); !ok || (ae.status != 400 && ae.status != 413) {
					t.Fatalf("decode error %v", err)
				}
			}
		}
	})
}
