// Package admin owns Gatehouse's Keycloak-compatible admin REST API under
// /admin/realms: realms, clients and their secrets, users, roles and role
// mappings, resource servers' authorization services (authz*.go), and each
// realm's admin audit log.
//
// Callers authenticate with a Bearer access token of any realm on this
// server. A master-realm user or service account holding realm role admin
// manages every realm; inside a realm, roles of its realm-management client
// grant scoped rights, as in Keycloak. Rights are resolved by the IDs of the
// built-in roles (realms.AdminRights), never by role names, and one rule
// (caller.covers) keeps a caller from granting, or taking over a user or
// client holding, rights it lacks. Handlers decode Keycloak
// representations, call package realms for the rules, and answer with
// Keycloak's status codes and {"errorMessage": ...} bodies. A handler is a
// handlerFunc registered through a.handle: it writes its answer and returns
// nil, or returns an error that writeError alone turns into the answer.
package admin
