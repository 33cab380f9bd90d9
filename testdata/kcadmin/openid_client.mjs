// openid-client (the certified OpenID Connect relying-party library for
// JavaScript runtimes), used unchanged against Gatehouse: discovery,
// authorization code with PKCE S256, state and nonce, the code exchange with
// ID token validation (signature against the JWKS, issuer, audience, nonce),
// userinfo, refresh, a wrong PKCE verifier refused, and RP-initiated logout.
// The browser part (login page, cookies) is done with fetch, as a user agent
// without JavaScript would.
//
// Usage: GATEHOUSE_ISSUER=http://127.0.0.1:8080/realms/demo CLIENT_ID=web \
//   CLIENT_SECRET=... REDIRECT_URI=http://app.invalid/callback \
//   POST_LOGOUT_REDIRECT_URI=http://app.invalid/bye USERNAME=alice PASSWORD=... \
//   EXPECT_NAME="Alice Liddell" node openid_client.mjs
// Exits non-zero on the first step that fails; prints "FLOW OK" at the end.
import * as client from "openid-client";
import assert from "node:assert/strict";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const issuer = new URL(env("GATEHOUSE_ISSUER"));
const redirectUri = env("REDIRECT_URI");

// The test server speaks plain HTTP on loopback; everything else is the
// library's default behaviour, plus JWS validation of the ID token.
const config = await client.discovery(issuer, env("CLIENT_ID"), undefined, client.ClientSecretBasic(env("CLIENT_SECRET")), {
  execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
});
const meta = config.serverMetadata();
assert.equal(meta.issuer, issuer.href);
assert.ok(meta.code_challenge_methods_supported.includes("S256"));
assert.ok(meta.response_types_supported.includes("code"));

// A user agent: one cookie jar for the server, no redirect following.
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(";");
    const i = pair.indexOf("=");
    const expired = attrs.some((a) => /^\s*max-age=(0|-)/i.test(a));
    if (expired) jar.delete(pair.slice(0, i).trim());
    else jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return res;
}

// HTML attribute values: named and numeric character references.
const named = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescape = (s) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, ref) =>
  ref[0] !== "#" ? named[ref.toLowerCase()] ?? m
    : String.fromCodePoint(ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)));

// signIn starts an authorization request, and answers the login page when
// one is shown; it returns the callback URL the server redirects to.
async function signIn(params) {
  let res = await browse(client.buildAuthorizationUrl(config, params));
  if (res.status === 200) {
    const html = await res.text();
    assert.match(html, /id="kc-form-login"/, "login page expected");
    const action = unescape(html.match(/<form[^>]*action="([^"]*)"/)[1]);
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g)) form.set(unescape(m[1]), unescape(m[2]));
    form.set("username", env("USERNAME"));
    form.set("password", env("PASSWORD"));
    res = await browse(new URL(action, issuer), {
      method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" },
    });
  }
  assert.equal(res.status, 302, `callback redirect expected, got ${res.status}: ${await res.text()}`);
  const callback = new URL(res.headers.get("location"));
  assert.equal(callback.origin + callback.pathname, redirectUri);
  return callback;
}

// 1. Authorization code + PKCE, validated by the library.
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const callback = await signIn({
  redirect_uri: redirectUri, scope: "openid profile email", state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
});
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
assert.equal(claims.iss, issuer.href);
assert.equal(claims.aud, env("CLIENT_ID"));
assert.equal(claims.nonce, nonce);
assert.equal(claims.name, env("EXPECT_NAME"));
assert.ok(claims.auth_time > 0, "auth_time");
assert.ok(tokens.access_token && tokens.refresh_token);

// 2. UserInfo with the access token, bound to the ID token's subject.
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(info.preferred_username, env("USERNAME"));

// 3. Refresh keeps the subject and returns a new ID token.
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.equal(refreshed.claims().sub, claims.sub);

// 4. SSO: a second request signs in without the login page; the library
// refuses the code when the verifier is not the one the challenge was made
// from (the server's invalid_grant).
const verifier2 = client.randomPKCECodeVerifier();
const state2 = client.randomState();
const callback2 = await signIn({
  redirect_uri: redirectUri, scope: "openid", state: state2,
  code_challenge: await client.calculatePKCECodeChallenge(verifier2), code_challenge_method: "S256",
});
await assert.rejects(
  client.authorizationCodeGrant(config, callback2, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: state2 }),
  (err) => err.error === "invalid_grant",
);

// 5. RP-initiated logout returns to the registered URI with the state, and
// the next authorization request shows the login page again.
const logoutState = client.randomState();
const logout = await browse(client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: env("POST_LOGOUT_REDIRECT_URI"), state: logoutState,
}));
assert.equal(logout.status, 302);
const back = new URL(logout.headers.get("location"));
assert.equal(back.origin + back.pathname, env("POST_LOGOUT_REDIRECT_URI"));
assert.equal(back.searchParams.get("state"), logoutState);
const again = await browse(client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: "openid", state: client.randomState(),
  code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
}));
assert.equal(again.status, 200);
assert.match(await again.text(), /id="kc-form-login"/);

console.log("FLOW OK");
