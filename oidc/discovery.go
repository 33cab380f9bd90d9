package oidc

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"

	"github.com/gatehouse/gatehouse/realms"
)

// tokenAuthMethods and signingAlgs are what both discovery documents
// announce.
var (
	tokenAuthMethods = []string{"client_secret_basic", "client_secret_post"}
	signingAlgs      = []string{"RS256", "ES256", "EdDSA"}
)

// discovery is /realms/{r}/.well-known/openid-configuration, listing only
// what Gatehouse actually serves.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	iss := s.issuer(r, rp.realm.Name)
	p := iss + "/protocol/openid-connect"
	authMethods, algs := tokenAuthMethods, signingAlgs
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           p + "/auth",
		"device_authorization_endpoint":                    p + "/auth/device",
		"token_endpoint":                                   p + "/token",
		"introspection_endpoint":                           p + "/token/introspect",
		"userinfo_endpoint":                                p + "/userinfo",
		"end_session_endpoint":                             p + "/logout",
		"jwks_uri":                                         p + "/certs",
		"revocation_endpoint":                              p + "/revoke",
		"grant_types_supported":                            grantTypesSupported,
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query", "fragment", "form_post"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            algs,
		"userinfo_signing_alg_values_supported":            algs,
		"token_endpoint_auth_methods_supported":            authMethods,
		"token_endpoint_auth_signing_alg_values_supported": algs,
		"introspection_endpoint_auth_methods_supported":    authMethods,
		"revocation_endpoint_auth_methods_supported":       authMethods,
		"claims_supported":                                 []string{"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name", "preferred_username", "email", "email_verified", "acr", "azp", "sid"},
		"claim_types_supported":                            []string{"normal"},
		"scopes_supported":                                 realms.SupportedScopes(),
		"backchannel_logout_supported":                     false,
		"tls_client_certificate_bound_access_tokens":       false,
		"request_parameter_supported":                      false,
		"request_uri_parameter_supported":                  false,
	})
}

// umaConfiguration is /realms/{r}/.well-known/uma2-configuration: the UMA
// 2.0 metadata Keycloak's policy enforcers and UMA clients read to find the
// token and resource registration endpoints. It names only what Gatehouse
// serves: no permission-ticket or user-managed-policy endpoint (Keycloak's
// permission_endpoint and policy_endpoint), since tickets are not issued.
func (s *Server) umaConfiguration(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	iss := s.issuer(r, rp.realm.Name)
	p := iss + "/protocol/openid-connect"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                p + "/auth",
		"token_endpoint":                        p + "/token",
		"introspection_endpoint":                p + "/token/introspect",
		"end_session_endpoint":                  p + "/logout",
		"jwks_uri":                              p + "/certs",
		"grant_types_supported":                 grantTypesSupported,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"token_endpoint_auth_methods_supported": tokenAuthMethods,
		"token_endpoint_auth_signing_alg_values_supported": signingAlgs,
		"scopes_supported":               realms.SupportedScopes(),
		"resource_registration_endpoint": iss + protectionPath + "/resource_set",
	})
}

// certs is the realm's JWKS: every key that still verifies tokens.
func (s *Server) certs(w http.ResponseWriter, _ *http.Request, rp *realmProvider) {
	writeJSON(w, http.StatusOK, rp.state.Keys.JWKS)
}

// realmInfo is GET /realms/{r} (Keycloak's PublishedRealmRepresentation).
func (s *Server) realmInfo(w http.ResponseWriter, r *http.Request, rp *realmProvider) {
	iss := s.issuer(r, rp.realm.Name)
	out := map[string]any{
		"realm":             rp.realm.Name,
		"token-service":     iss + "/protocol/openid-connect",
		"account-service":   iss + "/account",
		"tokens-not-before": rp.realm.NotBefore,
	}
	if der, err := x509.MarshalPKIXPublicKey(rp.state.Keys.Signing.Public().Key); err == nil {
		out["public_key"] = base64.StdEncoding.EncodeToString(der)
	}
	writeJSON(w, http.StatusOK, out)
}
