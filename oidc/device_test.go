package oidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// deviceEnv adds a public client "tv" allowed the device grant.
func deviceEnv(t *testing.T) (*webEnv, *oauth2.Config) {
	t.Helper()
	e := newWebEnv(t)
	if _, _, err := e.svc.CreateClient(context.Background(), "demo", realms.NewClient{Client: store.Client{
		ClientID: "tv", Enabled: true, PublicClient: true,
		Attributes: map[string]string{realms.AttrDeviceGrantEnabled: "true"},
	}}); err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "tv", Scopes: []string{"openid"}, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.endpoint("auth/device"), TokenURL: e.endpoint("token"), AuthStyle: oauth2.AuthStyleInParams,
	}}
	return e, cfg
}

func (e *webEnv) pollDevice(deviceCode string) response {
	e.t.Helper()
	return e.post("token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}, "client_id": {"tv"}}, "", "")
}

func TestDeviceAuthorizationGrant(t *testing.T) {
	e, cfg := deviceEnv(t)
	da, err := cfg.DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(da.UserCode) != 9 || da.UserCode[4] != '-' || da.VerificationURI != e.issuer()+"/device" || da.Interval != 5 ||
		!strings.HasPrefix(da.VerificationURIComplete, da.VerificationURI+"?user_code=") {
		t.Fatalf("device authorization: %+v", da)
	}
	if r := e.pollDevice(da.DeviceCode); r.str("error") != "authorization_pending" {
		t.Fatalf("first poll: %d %s", r.status, r.raw)
	}
	if r := e.pollDevice(da.DeviceCode); r.str("error") != "slow_down" {
		t.Fatalf("immediate second poll: %d %s", r.status, r.raw)
	}
	b := newBrowser(t)
	p := b.get(da.VerificationURIComplete)
	if p.status != 200 || !strings.Contains(p.body, `<label for="device-user-code">`) || !strings.Contains(p.body, `value="`+da.UserCode+`"`) {
		t.Fatalf("device page: %d %s", p.status, p.body)
	}
	// A wrong code is refused on the page.
	if r := b.submit(e.base, p, url.Values{"user_code": {"BBBB-BBBB"}}); r.status != 400 || !strings.Contains(r.body, "Invalid code, please try again.") {
		t.Fatalf("wrong user code: %d", r.status)
	}
	// Typed in lower case without the dash, it still matches.
	p = b.submit(e.base, b.get(da.VerificationURI), url.Values{"user_code": {strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))}})
	if !isLoginPage(p) {
		t.Fatalf("want login page, got %d %s", p.status, p.body)
	}
	p = b.login(e.base, p, "alice", alicePassword)
	if p.status != 200 || !strings.Contains(p.body, "Grant access to tv") || !strings.Contains(p.body, da.UserCode) {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	e.clock.advance(realms.DevicePollInterval)
	if r := e.pollDevice(da.DeviceCode); r.str("error") != "authorization_pending" {
		t.Fatalf("poll before approval: %d %s", r.status, r.raw)
	}
	// Approval from another browser (no session, no cookie) does nothing.
	if r := newBrowser(t).submit(e.base, p, url.Values{"accept": {"yes"}}); strings.Contains(r.body, "Device Login Successful") {
		t.Fatal("approved from another browser")
	}
	if r := b.submit(e.base, p, url.Values{"accept": {"yes"}}); r.status != 200 || !strings.Contains(r.body, "Device Login Successful") {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	e.clock.advance(realms.DevicePollInterval)
	tok := e.pollDevice(da.DeviceCode)
	if tok.status != 200 || tok.str("id_token") == "" {
		t.Fatalf("tokens: %d %s", tok.status, tok.raw)
	}
	if c := claims(t, tok.str("access_token")); c["sub"] != e.alice.ID || c["azp"] != "tv" {
		t.Errorf("access token: %v", c)
	}
	e.clock.advance(realms.DevicePollInterval)
	if r := e.pollDevice(da.DeviceCode); r.str("error") != "invalid_grant" {
		t.Fatalf("second redemption: %d %s", r.status, r.raw)
	}
	// The device joined the browser's SSO session: logging out ends it.
	if p := b.get(e.endpoint("logout") + "?" + url.Values{"id_token_hint": {tok.str("id_token")}}.Encode()); p.status != 200 {
		t.Fatalf("logout: %d %s", p.status, p.body)
	}
	if r := e.get(e.endpoint("userinfo"), tok.str("access_token")); r.status != 401 {
		t.Errorf("device token after the browser logged out: %d", r.status)
	}
}

func TestDeviceAuthorizationDeniedExpiredAndDisabled(t *testing.T) {
	e, cfg := deviceEnv(t)
	ctx := context.Background()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	p := b.login(e.base, b.submit(e.base, b.get(da.VerificationURIComplete), url.Values{"user_code": {da.UserCode}}), "alice", alicePassword)
	if r := b.submit(e.base, p, url.Values{"cancel": {"no"}}); !strings.Contains(r.body, "Device login denied") {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	if r := e.pollDevice(da.DeviceCode); r.str("error") != "access_denied" {
		t.Fatalf("after denial: %d %s", r.status, r.raw)
	}
	da2, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(realms.DeviceCodeLifespan + time.Second)
	if r := e.pollDevice(da2.DeviceCode); r.str("error") != "expired_token" {
		t.Fatalf("expired: %d %s", r.status, r.raw)
	}
	if r := b.submit(e.base, b.get(da2.VerificationURIComplete), url.Values{"user_code": {da2.UserCode}}); r.status != 400 || !strings.Contains(r.body, "Invalid code, please try again.") {
		t.Fatalf("expired code on the page: %d", r.status)
	}
	// The authorization endpoint is no way into a device approval.
	da3, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := b.get(e.endpoint("auth") + "?device_user_code=" + strings.ReplaceAll(da3.UserCode, "-", "")); r.status != 400 || strings.Contains(r.body, "Grant access") {
		t.Fatalf("device approval through the authorization endpoint: %d", r.status)
	}
	// A client without the attribute may not start the flow.
	r := e.post("auth/device", url.Values{"client_id": {"spa"}}, "", "")
	if r.status != 400 || r.str("error") != "unauthorized_client" {
		t.Fatalf("device grant off: %d %s", r.status, r.raw)
	}
	if r := e.post("token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}, "client_id": {"spa"}}, "", ""); r.str("error") != "unauthorized_client" {
		t.Fatalf("device token for a client without the grant: %d %s", r.status, r.raw)
	}
}
