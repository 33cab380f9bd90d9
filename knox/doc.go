// Package knox serves Apache Knox's token API for Gatehouse's gateway
// topologies at Knox's URLs, /gateway/{topology}/knoxtoken/api/v1/... (and
// v2): token issue, the topology's JWKS, and the managed-token lifecycle
// (renew, revoke, enable, disable, list a user's tokens).
//
// Knox is not OpenID Connect, so it is a package of its own. Its handlers
// stay thin and reach state only through small interfaces: Tokens
// (realms.KnoxService: topologies, managed Knox tokens, passcodes, and the
// rules of who may renew, revoke, enable, disable or list a token, which
// this package only turns into Knox's answers), Realms (realms.Service:
// password checks, metrics, the clock) and Verifier (the protocol layer, oidc.Server: the bearer and own
// tokens a gateway accepts, a realm's signing key and issuer). A topology
// is bound to its realm by ID, so renaming the realm keeps it serving.
// Knox's answers, error codes included, are kept as Knox gives them.
package knox
