// Package console serves Gatehouse's admin console at Keycloak's path
// /admin/{realm}/console/: a small single-page application, embedded in the
// binary, whose committed sources under static/ are what the browser runs
// (plain ES modules, no build step, no external assets).
//
// The console holds no rights of its own. It signs the user in through the
// realm's security-admin-console public client (authorization code with
// PKCE S256, state and nonce), keeps the tokens in memory only, and calls
// the admin REST API with the user's bearer token, so it can do exactly
// what that user's roles allow: the API's 401 and 403 answers are shown as
// messages. Every console response carries a Content-Security-Policy that
// allows scripts, styles and fetches from this origin only, so nothing
// injected into a page can run.
package console
