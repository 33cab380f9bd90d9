package oidc_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/nodetest"
	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// openid-client (pinned in testdata/kcadmin, installed by `make test`)
// completes authorization code + PKCE against Gatehouse with its own
// validation: discovery, the code exchange with the ID token's signature
// (JWKS), issuer, audience and nonce, userinfo, refresh, a wrong verifier
// refused, SSO, and RP-initiated logout (testdata/kcadmin/openid_client.mjs).
func TestOpenIDClientLibraryAuthorizationCodeWithPKCE(t *testing.T) {
	dir := nodetest.Require(t, "openid-client")
	e := newEnv(t)
	const redirect, bye = "http://app.invalid/callback", "http://app.invalid/bye"
	_, secret, err := e.svc.CreateClient(context.Background(), e.realm, realms.NewClient{Client: store.Client{
		ClientID: "node-web", Enabled: true, StandardFlowEnabled: true, RedirectURIs: []string{redirect},
		Attributes: map[string]string{realms.AttrPostLogoutRedirectURIs: bye},
	}})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Flow(t, dir, "openid_client.mjs",
		"GATEHOUSE_ISSUER="+e.issuer(), "CLIENT_ID=node-web", "CLIENT_SECRET="+secret,
		"REDIRECT_URI="+redirect, "POST_LOGOUT_REDIRECT_URI="+bye,
		"USERNAME=alice", "PASSWORD="+alicePassword, "EXPECT_NAME=Alice Liddell")
}
