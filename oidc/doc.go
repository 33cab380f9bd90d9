// Package oidc owns the OpenID Connect / OAuth 2.0 protocol surface of
// Gatehouse at Keycloak's URLs: the token endpoint (one fosite provider per
// realm, with a handler per grant; the UMA grant's decisions run beside
// fosite, as their answer is not always a token), discovery, JWKS,
// userinfo, introspection, revocation, logout, the realm's public info, and
// the UMA protection API through which a resource server registers its
// resources.
//
// Handlers stay thin: they parse and check the wire request, call into
// package realms for the rules and the store for state, and write responses
// in Keycloak's JSON shapes with its error codes and descriptions.
package oidc
