package oidc_test

import (
	"context"
	"encoding/base64"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/claims.golden from the current tokens")

// goldenVolatile are the values that differ between runs (times, random
// IDs, hashes); they are replaced so that the rest, claim order included,
// can be compared byte for byte.
var goldenVolatile = []*regexp.Regexp{
	regexp.MustCompile(`"(exp|iat|auth_time|expires_in|refresh_expires_in)":\d+`),
	regexp.MustCompile(`"(jti|sid|session_state|at_hash|access_token|refresh_token|id_token)":"[^"]*"`),
}

// TestTokenClaimsGolden pins the claims a default client's tokens, userinfo
// and introspection carry, byte for byte (claim order included), for each
// grant: the built-in client scopes and their mappers must reproduce them.
func TestTokenClaimsGolden(t *testing.T) {
	e, xsecret, _ := exchangeEnv(t)
	ids := strings.NewReplacer(e.alice.ID, "<alice>", e.base, "<base>")
	var out strings.Builder
	section := func(name, s string) {
		for _, re := range goldenVolatile {
			s = re.ReplaceAllString(s, `"$1":<v>`)
		}
		s = ids.Replace(s)
		s = regexp.MustCompile(`"sub":"[0-9a-f-]{36}"`).ReplaceAllString(s, `"sub":<sa>`)
		out.WriteString("== " + name + "\n" + strings.TrimSpace(s) + "\n")
	}
	payload := func(jwt string) string {
		parts := strings.Split(jwt, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %q", jwt)
		}
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tokens := func(name string, r response) {
		if r.status != 200 {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
		section(name+" response", r.raw)
		section(name+" access token", payload(r.str("access_token")))
		if idt := r.str("id_token"); idt != "" {
			section(name+" id token", payload(idt))
		}
		in := e.post("token/introspect", url.Values{"token": {r.str("access_token")}}, "app", e.secret)
		section(name+" introspection", in.raw)
		if strings.Contains(r.str("scope"), "openid") {
			ui := e.get(e.endpoint("userinfo"), r.str("access_token"))
			section(name+" userinfo", ui.raw)
		}
	}

	pw := e.passwordLogin(url.Values{"scope": {"openid"}})
	tokens("password openid", pw)
	tokens("password", e.passwordLogin(nil))
	tokens("password offline", passwordAs(e, url.Values{"scope": {"openid offline_access"}}))
	tokens("client_credentials", e.post("token", url.Values{"grant_type": {"client_credentials"}}, "app", e.secret))
	tokens("refresh", e.post("token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pw.str("refresh_token")}}, "app", e.secret))
	tokens("exchange", e.exchange(xsecret, url.Values{"subject_token": {pw.str("access_token")}, "subject_token_type": {teAccess}, "audience": {"api"}}))

	path := filepath.Join("testdata", "claims.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("claims differ from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// passwordAs runs the password grant for alice after granting her the
// offline_access role when the request asks for it.
func passwordAs(e *env, extra url.Values) response {
	e.t.Helper()
	ctx := context.Background()
	if strings.Contains(extra.Get("scope"), "offline_access") {
		r, err := e.store.GetRoleByName(ctx, mustRealmID(e.t, e), "", "offline_access")
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.svc.GrantRoles(ctx, "demo", e.alice.ID, r.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.passwordLogin(extra)
}
