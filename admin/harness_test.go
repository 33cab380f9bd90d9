package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/admin"
	"github.com/gatehouse/gatehouse/knox"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
	"github.com/gatehouse/gatehouse/store/bolt"
	"github.com/gatehouse/gatehouse/store/memory"
)

// env is a running server (protocol + admin API) bootstrapped like a fresh
// `gatehouse serve`: realm master, admin-cli and user admin.
type env struct {
	t     *testing.T
	store store.Store
	// bolt is the store when the env was made by newBoltEnv, else nil.
	bolt  *bolt.Store
	svc   *realms.Service
	srv   *httptest.Server
	admin string // master admin's access token
}

const adminPassword = "admin-Pass-1"

func newEnv(t *testing.T) *env {
	t.Helper()
	return newLoggedEnv(t, nil)
}

// newLoggedEnv is newEnv with the request log sent to log. Its store is in
// memory: no file, no fsync per write.
func newLoggedEnv(t *testing.T, log *slog.Logger) *env {
	t.Helper()
	return newEnvOn(t, memory.New(), log)
}

// newBoltEnv is newEnv on a bbolt file, for tests of what only that store
// has (online backups, byte-for-byte snapshots).
func newBoltEnv(t *testing.T) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnvOn(t, st, nil)
	e.bolt = st
	return e
}

func newEnvOn(t *testing.T, st store.Store, log *slog.Logger) *env {
	t.Helper()
	sealer, err := realms.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := realms.NewService(st, sealer, nil)
	if _, err := svc.Bootstrap(context.Background(), "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	sessions, knoxSvc := realms.NewSessionService(svc), realms.NewKnoxService(svc)
	srv := oidc.NewServer(oidc.Config{Service: svc, Sessions: sessions, Knox: knoxSvc, Logger: log})
	admin.Mount(srv, admin.Services{Realms: svc, Sessions: sessions, Knox: knoxSvc}, log)
	knox.Mount(srv, knoxSvc, svc, log)
	// The production http.Server settings (timeouts, header limit).
	hs := httptest.NewUnstartedServer(srv)
	prod := oidc.NewHTTPServer(srv)
	hs.Config.ReadHeaderTimeout, hs.Config.ReadTimeout = prod.ReadHeaderTimeout, prod.ReadTimeout
	hs.Config.WriteTimeout, hs.Config.IdleTimeout, hs.Config.MaxHeaderBytes = prod.WriteTimeout, prod.IdleTimeout, prod.MaxHeaderBytes
	hs.Start()
	t.Cleanup(hs.Close)
	e := &env{t: t, store: st, svc: svc, srv: hs}
	e.admin = e.passwordToken("master", "admin-cli", "", "admin", adminPassword)
	return e
}

type resp struct {
	status int
	header http.Header
	raw    string
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.raw), v); err != nil {
		t.Fatalf("decode %q: %v", r.raw, err)
	}
}

func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// call sends a JSON admin request with token (may be "").
func (e *env) call(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, raw: string(b)}
}

// must asserts the status of an admin call and returns it.
func (e *env) must(status int, method, path, token string, body any) resp {
	e.t.Helper()
	r := e.call(method, path, token, body)
	if r.status != status {
		e.t.Fatalf("%s %s: got %d %s, want %d", method, path, r.status, r.raw, status)
	}
	return r
}

// tokenRequest posts to a realm's token endpoint.
func (e *env) tokenRequest(realm string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	return e.tokenRequestFrom("", realm, form, user, pass)
}

// tokenRequestFrom is tokenRequest sent from the local address from (any of
// 127.0.0.0/8 on Linux), so the server sees another remote address; ""
// lets the system choose.
func (e *env) tokenRequestFrom(from, realm string, form url.Values, user, pass string) (int, map[string]any) {
	e.t.Helper()
	hc := http.DefaultClient
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		tr := &http.Transport{DialContext: d.DialContext}
		defer tr.CloseIdleConnections()
		hc = &http.Client{Transport: tr}
	}
	req := e.protocolRequest(realm, "token", form)
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return doWith(e.t, hc, req)
}

// protocolRequest is a form POST to a realm's protocol endpoint
// P/<endpoint>.
func (e *env) protocolRequest(realm, endpoint string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/realms/"+realm+"/protocol/openid-connect/"+endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// doWith sends req with hc and decodes the JSON answer (nil when there is
// none).
func doWith(t *testing.T, hc *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func (e *env) passwordToken(realm, client, secret, user, password string) string {
	e.t.Helper()
	return e.passwordLogin(realm, client, secret, user, password)["access_token"].(string)
}

// passwordLogin is a password grant that must succeed; it returns the
// token response.
func (e *env) passwordLogin(realm, client, secret, user, password string) map[string]any {
	e.t.Helper()
	f := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	basic := client
	if secret == "" {
		f.Set("client_id", client)
		basic = ""
	}
	status, m := e.tokenRequest(realm, f, basic, secret)
	if status != 200 {
		e.t.Fatalf("password token %s/%s: %d %v", realm, user, status, m)
	}
	return m
}

func (e *env) serviceToken(realm, client, secret string) (int, map[string]any) {
	e.t.Helper()
	return e.tokenRequest(realm, url.Values{"grant_type": {"client_credentials"}}, client, secret)
}

// idFromLocation returns the last path segment of a 201's Location.
func idFromLocation(t *testing.T, r resp) string {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location in %d %s", r.status, r.raw)
	}
	return loc[strings.LastIndex(loc, "/")+1:]
}

// createClient creates a confidential client and returns its id and secret.
func (e *env) createClient(realm, token string, rep map[string]any) (string, string) {
	e.t.Helper()
	id := idFromLocation(e.t, e.must(201, "POST", "/admin/realms/"+realm+"/clients", token, rep))
	var sec map[string]string
	e.must(200, "GET", "/admin/realms/"+realm+"/clients/"+id+"/client-secret", token, nil).json(e.t, &sec)
	return id, sec["value"]
}

// grantClientRoles maps realm-management roles to a client's service
// account, the way `kcadm add-roles --cclientid realm-management` does.
func (e *env) grantRealmManagement(realm, clientUUID string, roles ...string) {
	e.t.Helper()
	var sa map[string]any
	e.must(200, "GET", "/admin/realms/"+realm+"/clients/"+clientUUID+"/service-account-user", e.admin, nil).json(e.t, &sa)
	var rm []map[string]any
	e.must(200, "GET", "/admin/realms/"+realm+"/clients?clientId=realm-management", e.admin, nil).json(e.t, &rm)
	if len(rm) != 1 {
		e.t.Fatalf("realm-management client: %v", rm)
	}
	var body []map[string]string
	for _, r := range roles {
		body = append(body, map[string]string{"name": r})
	}
	e.must(204, "POST", "/admin/realms/"+realm+"/users/"+sa["id"].(string)+"/role-mappings/clients/"+rm[0]["id"].(string), e.admin, body)
}
