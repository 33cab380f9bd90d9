package admin_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// catalogRow is one entry of testdata/badinput/catalog.json.
type catalogRow struct {
	Name         string            `json:"name"`
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Headers      map[string]string `json:"headers"`
	Basic        []string          `json:"basic"`
	Form         string            `json:"form"`
	Body         string            `json:"body"`
	Admin        bool              `json:"admin"`
	Status       int               `json:"status"`
	Error        string            `json:"error"`
	ErrorMessage bool              `json:"errorMessage"`
	JSON         map[string]any    `json:"json"`
}

// signWith signs claims with the realm's own key, header tweaks applied.
func signWith(t *testing.T, key jose.JSONWebKey, kid string, c map[string]any) string {
	t.Helper()
	key.KeyID = kid
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// Every row of the bad-input catalog gets its expected status and error,
// and leaves the store byte-for-byte unchanged.
func TestBadInputCatalog(t *testing.T) {
	raw, err := os.ReadFile("../testdata/badinput/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []catalogRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatal(err)
	}
	// bbolt: its online backup is the byte-for-byte snapshot.
	e := newBoltEnv(t)
	ctx := context.Background()
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "other", "enabled": true})
	appID, secret := e.createClient("demo", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true, "directAccessGrantsEnabled": true})
	_, exSecret := e.createClient("demo", e.admin, map[string]any{"clientId": "exchanger", "attributes": map[string]string{"standard.token.exchange.enabled": "true"}})
	_, otherSecret := e.createClient("other", e.admin, map[string]any{"clientId": "app", "serviceAccountsEnabled": true})
	e.must(201, "POST", "/admin/realms/demo/users", e.admin, map[string]any{"username": "alice", "enabled": true,
		"credentials": []map[string]any{{"value": "alice-Pass-1"}}})
	e.must(201, "PUT", "/admin/gateway/topologies/basic", e.admin, map[string]any{"realm": "demo", "authentication": "basic", "ttl": "PT1H"})
	e.must(201, "PUT", "/admin/gateway/topologies/bearer", e.admin, map[string]any{"realm": "demo", "authentication": "bearer"})

	// Callers of the admin-model attack rows (escalation and takeover).
	_, clientMgr := e.userWithRights("demo", "clientmgr", nil, "manage-clients")
	_, viewClients := e.userWithRights("demo", "clientviewer", nil, "view-clients")
	_, userMgr := e.userWithRights("demo", "usermgr", nil, "manage-users")
	bossID, _ := e.userWithRights("demo", "boss", nil, "realm-admin")
	strongID, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "strongbot", "serviceAccountsEnabled": true})
	modelsID, _ := e.createClient("demo", e.admin, map[string]any{"clientId": "models", "authorizationServicesEnabled": true})
	e.grantRealmManagement("demo", strongID, "realm-admin")
	var masterAdmins []map[string]any
	e.must(200, "GET", "/admin/realms/master/users?username=admin&exact=true", e.admin, nil).json(t, &masterAdmins)

	_, m := e.serviceToken("demo", "app", secret)
	valid := m["access_token"].(string)
	_, m = e.serviceToken("other", "app", otherSecret)
	foreign := m["access_token"].(string)
	st, _ := e.svc.Realm(ctx, "demo")
	key := st.Keys.Signing
	claims := func(mut func(map[string]any)) map[string]any {
		c := map[string]any{}
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(valid, ".")[1])
		_ = json.Unmarshal(b, &c)
		mut(c)
		return c
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public().Key)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := func() string {
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": key.KeyID})
		p, _ := json.Marshal(claims(func(map[string]any) {}))
		in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		mac := hmac.New(sha256.New, pubPEM)
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}()
	vars := map[string]string{
		"secret":            secret,
		"app_token":         valid,
		"exchanger_secret":  exSecret,
		"none_token":        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(valid, ".")[1] + ".",
		"hs256_token":       hs,
		"unknown_kid_token": signWith(t, key, "not-a-kid", claims(func(map[string]any) {})),
		"expired_token":     signWith(t, key, key.KeyID, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"nbf_future_token":  signWith(t, key, key.KeyID, claims(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })),
		"truncated_token":   valid[:len(valid)/2],
		"oversized_token":   strings.Repeat("A", 40<<10),
		"foreign_token":     foreign,
		"huge":              strings.Repeat("h", 40<<10),
		"big":               strings.Repeat("b", 70<<10),
		"rm_demo":           e.rmClient("demo"),
		"app_id":            appID,
		"clientmgr_token":   clientMgr,
		"viewclients_token": viewClients,
		"usermgr_token":     userMgr,
		"boss_id":           bossID,
		"strong_client_id":  strongID,
		"models_id":         modelsID,
		"master_admin_id":   masterAdmins[0]["id"].(string),
		"http_date":         time.Now().UTC().Format(http.TimeFormat),
	}
	// An identity provider trusting realm "other" would make its tokens
	// valid at the bearer topology; the catalog proves none is configured.
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
	var snapshot = func() []byte {
		var b bytes.Buffer
		if _, err := e.bolt.Backup(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			before := snapshot()
			body := expand(row.Body)
			if row.Form != "" {
				body = expand(row.Form)
			}
			req, err := http.NewRequest(row.Method, e.srv.URL+expand(row.Path), strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if row.Form != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if row.Body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range row.Headers {
				req.Header.Set(k, expand(v))
			}
			if len(row.Basic) == 2 {
				req.SetBasicAuth(expand(row.Basic[0]), expand(row.Basic[1]))
			}
			if row.Admin {
				req.Header.Set("Authorization", "Bearer "+e.admin)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var got map[string]any
			_ = json.NewDecoder(res.Body).Decode(&got)
			if res.StatusCode != row.Status {
				t.Fatalf("status %d (%v), want %d", res.StatusCode, got, row.Status)
			}
			if row.Error != "" && got["error"] != row.Error {
				t.Errorf("error = %v, want %s (%v)", got["error"], row.Error, got)
			}
			if row.ErrorMessage && got["errorMessage"] == nil {
				t.Errorf("no errorMessage: %v", got)
			}
			for k, v := range row.JSON {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, got[k], v, got)
				}
			}
			if !bytes.Equal(before, snapshot()) {
				t.Errorf("the store changed")
			}
		})
	}
}
