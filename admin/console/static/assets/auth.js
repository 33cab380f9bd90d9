// Sign-in through the realm's security-admin-console public client:
// authorization code with PKCE (S256), state and nonce. Tokens live in this
// module's memory only; a reload signs in again through the SSO session
// without a prompt.

import { sha256 } from './sha256.js';

export const CLIENT_ID = 'security-admin-console';
const PENDING = 'gatehouse-console-login';
// Refresh this long before the access token expires.
const EARLY_MS = 15000;

const meta = document.querySelector('meta[name="gatehouse-console"]');
export const loginRealm = meta.dataset.realm;
export const base = meta.dataset.base;
export const consoleURL = `${location.origin}${base}/admin/${encodeURIComponent(loginRealm)}/console/`;
const oidcBase = `${base}/realms/${encodeURIComponent(loginRealm)}/protocol/openid-connect`;

let tokens = null; // {access, refresh, idToken, expiresAt, claims}
let refreshing = null;

function b64url(bytes) {
  let s = '';
  bytes.forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random() {
  return b64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challenge(verifier) {
  const data = new TextEncoder().encode(verifier);
  if (globalThis.crypto && crypto.subtle) {
    return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
  }
  return b64url(sha256(data));
}

// claimsOf reads a JWT's payload. The token came straight from the token
// endpoint of this origin, so the console does not verify the signature;
// the admin API does, on every call.
export function claimsOf(jwt) {
  const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

// login sends the browser to the authorization endpoint; route is the
// console page to come back to.
export async function login(route, prompt) {
  const verifier = random();
  const pending = { state: random(), nonce: random(), verifier, route: route || '' };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: consoleURL,
    response_type: 'code',
    response_mode: 'query',
    scope: 'openid',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challenge(verifier),
    code_challenge_method: 'S256',
  });
  if (prompt) q.set('prompt', prompt);
  location.assign(`${oidcBase}/auth?${q}`);
}

class AuthError extends Error {}

async function tokenRequest(params) {
  const res = await fetch(`${oidcBase}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...params }),
    credentials: 'same-origin',
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new AuthError(body.error_description || body.error || `token endpoint answered ${res.status}`);
  }
  return body;
}

function keep(body) {
  tokens = {
    access: body.access_token,
    refresh: body.refresh_token || (tokens && tokens.refresh),
    idToken: body.id_token || (tokens && tokens.idToken),
    expiresAt: Date.now() + (body.expires_in || 60) * 1000,
    claims: claimsOf(body.access_token),
  };
}

// completeLogin finishes a sign-in when the page is the redirect back from
// the authorization endpoint. It returns {route} when signed in, null when
// the page was not a redirect, and throws on an error answer.
export async function completeLogin() {
  const q = new URLSearchParams(location.search);
  if (!q.has('code') && !q.has('error')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  // The code and state leave the address bar (and the history) at once.
  history.replaceState(null, '', consoleURL);
  if (!pending || q.get('state') !== pending.state) {
    throw new AuthError('The sign-in answer does not belong to this browser tab (state mismatch).');
  }
  if (q.has('error')) {
    throw new AuthError(q.get('error_description') || q.get('error'));
  }
  const body = await tokenRequest({
    grant_type: 'authorization_code',
    code: q.get('code'),
    redirect_uri: consoleURL,
    code_verifier: pending.verifier,
  });
  if (!body.id_token || claimsOf(body.id_token).nonce !== pending.nonce) {
    throw new AuthError('The ID token does not carry this sign-in\'s nonce.');
  }
  keep(body);
  return { route: pending.route };
}

// accessToken returns a current access token, refreshing it first when it
// is about to expire; force refreshes regardless (after a 401).
export async function accessToken(force) {
  if (!tokens) throw new AuthError('Not signed in.');
  if (force || Date.now() > tokens.expiresAt - EARLY_MS) {
    if (!refreshing) {
      refreshing = tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh })
        .then(keep)
        .finally(() => { refreshing = null; });
    }
    try {
      await refreshing;
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      // The session ended (idle, signed out elsewhere, revoked): sign in
      // again and come back to this page; the SSO session, when it still
      // lives, makes that invisible.
      tokens = null;
      await login(location.hash);
      return new Promise(() => {});
    }
  }
  return tokens.access;
}

export function user() {
  return tokens ? tokens.claims : null;
}

// logout ends the SSO session at the end-session endpoint and comes back to
// the console's signed-out page.
export function logout() {
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: `${consoleURL}?signed-out`,
  });
  if (tokens && tokens.idToken) q.set('id_token_hint', tokens.idToken);
  tokens = null;
  location.assign(`${oidcBase}/logout?${q}`);
}

export function signedOutLanding() {
  return new URLSearchParams(location.search).has('signed-out');
}

export { AuthError };
