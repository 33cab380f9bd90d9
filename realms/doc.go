// Package realms owns Gatehouse's domain rules: what a valid realm, client,
// user or role is; how client secrets are generated, sealed and checked; how
// passwords are hashed and verified; how a user's effective roles are
// resolved; which keys sign a realm's tokens; and who may use which
// resource of a resource server (authorization services, authz*.go: access
// modes, backend roles, access keys, Keycloak's policies and permissions,
// and the decisions).
//
// It speaks no HTTP and knows nothing of OAuth2 wire formats. The Service
// type is the entry point the protocol layer (package oidc), the admin
// API, the Knox API (package knox) and the command-line tools use; it
// writes through a store.Store. Two services over it own token state that
// every request reads from the store and no cache holds: SessionService
// (sessions, refresh-token rotation, access-token revocation) and
// KnoxService (gateway topologies and managed Knox tokens).
package realms
