package realms

import (
	"fmt"

	"github.com/gatehouse/gatehouse/store"
)

// Client-scope attributes Keycloak defines.
const (
	AttrIncludeInTokenScope = "include.in.token.scope"
	AttrDisplayOnConsent    = "display.on.consent.screen"
	AttrConsentText         = "consent.screen.text"
	ProtocolOIDC            = "openid-connect"
)

// flags is the config of a mapper that emits to the given targets, in
// Keycloak's "true"/"false" strings.
func flags(at, id, ui, in bool) map[string]string {
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	return map[string]string{"access.token.claim": b(at), "id.token.claim": b(id), "userinfo.token.claim": b(ui), "introspection.token.claim": b(in)}
}

func withConfig(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func mapper(name, typ string, cfg map[string]string) store.ProtocolMapper {
	return store.ProtocolMapper{ID: NewID(), Name: name, Protocol: ProtocolOIDC, ProtocolMapper: typ, Config: cfg}
}

func attrMapper(name, attr, claim, typ string) store.ProtocolMapper {
	return mapper(name, MapperUserAttribute, withConfig(flags(true, true, true, true),
		"user.attribute", attr, "claim.name", claim, "jsonType.label", typ))
}

// builtinClientScopes are Keycloak's client scopes of a new realm, with
// their mappers, and which of them are the realm's default and optional
// scopes. offlineRoleID is the realm role offline_access, the scope mapping
// of the offline_access scope.
func builtinClientScopes(offlineRoleID string) (scopes []store.ClientScope, defaults, optional []string) {
	attrs := func(include, consent bool, text string) map[string]string {
		a := map[string]string{AttrIncludeInTokenScope: fmt.Sprint(include), AttrDisplayOnConsent: fmt.Sprint(consent)}
		a[AttrConsentText] = text
		return a
	}
	all := []struct {
		def bool
		cs  store.ClientScope
	}{
		{true, store.ClientScope{Name: "profile", Description: "OpenID Connect built-in scope: profile",
			Attributes: attrs(true, true, "${profileScopeConsentText}"),
			ProtocolMappers: []store.ProtocolMapper{
				mapper("full name", MapperFullName, flags(true, true, true, true)),
				attrMapper("username", "username", "preferred_username", "String"),
				attrMapper("given name", "firstName", "given_name", "String"),
				attrMapper("family name", "lastName", "family_name", "String"),
				attrMapper("middle name", "middleName", "middle_name", "String"),
				attrMapper("nickname", "nickname", "nickname", "String"),
				attrMapper("profile", "profile", "profile", "String"),
				attrMapper("picture", "picture", "picture", "String"),
				attrMapper("website", "website", "website", "String"),
				attrMapper("gender", "gender", "gender", "String"),
				attrMapper("birthdate", "birthdate", "birthdate", "String"),
				attrMapper("zoneinfo", "zoneinfo", "zoneinfo", "String"),
				attrMapper("locale", "locale", "locale", "String"),
				attrMapper("updated at", "updatedAt", "updated_at", "long"),
			}}},
		{true, store.ClientScope{Name: "email", Description: "OpenID Connect built-in scope: email",
			Attributes: attrs(true, true, "${emailScopeConsentText}"),
			ProtocolMappers: []store.ProtocolMapper{
				attrMapper("email", "email", "email", "String"),
				mapper("email verified", MapperUserProperty, withConfig(flags(true, true, true, true),
					"user.attribute", "emailVerified", "claim.name", "email_verified", "jsonType.label", "boolean")),
			}}},
		{false, store.ClientScope{Name: "address", Description: "OpenID Connect built-in scope: address",
			Attributes: attrs(true, true, "${addressScopeConsentText}"),
			ProtocolMappers: []store.ProtocolMapper{mapper("address", MapperAddress, withConfig(flags(true, true, true, true),
				"user.attribute.formatted", "formatted", "user.attribute.street", "street",
				"user.attribute.locality", "locality", "user.attribute.region", "region",
				"user.attribute.postal_code", "postal_code", "user.attribute.country", "country"))}}},
		{false, store.ClientScope{Name: "phone", Description: "OpenID Connect built-in scope: phone",
			Attributes: attrs(true, true, "${phoneScopeConsentText}"),
			ProtocolMappers: []store.ProtocolMapper{
				attrMapper("phone number", "phoneNumber", "phone_number", "String"),
				attrMapper("phone number verified", "phoneNumberVerified", "phone_number_verified", "boolean"),
			}}},
		{false, store.ClientScope{Name: OfflineAccess, Description: "OpenID Connect built-in scope: offline_access",
			Attributes:   map[string]string{AttrDisplayOnConsent: "true", AttrConsentText: "${offlineAccessScopeConsentText}"},
			ScopeRoleIDs: []string{offlineRoleID}}},
		{true, store.ClientScope{Name: "roles", Description: "OpenID Connect scope for add user roles to the access token",
			Attributes: attrs(false, true, "${rolesScopeConsentText}"),
			ProtocolMappers: []store.ProtocolMapper{
				mapper("realm roles", MapperRealmRole, withConfig(flags(true, false, false, true),
					"user.attribute", "foo", "claim.name", "realm_access.roles", "jsonType.label", "String", "multivalued", "true")),
				mapper("client roles", MapperClientRole, withConfig(flags(true, false, false, true),
					"user.attribute", "foo", "claim.name", "resource_access.${client_id}.roles", "jsonType.label", "String", "multivalued", "true")),
				mapper("audience resolve", MapperAudienceResolve, map[string]string{"access.token.claim": "true", "introspection.token.claim": "true"}),
			}}},
		{true, store.ClientScope{Name: "web-origins", Description: "OpenID Connect scope for add allowed web origins to the access token",
			Attributes: attrs(false, false, ""),
			ProtocolMappers: []store.ProtocolMapper{mapper("allowed web origins", MapperAllowedOrigins,
				map[string]string{"access.token.claim": "true", "introspection.token.claim": "true"})}}},
		{true, store.ClientScope{Name: "acr", Description: "OpenID Connect scope for add acr (authentication context class reference) to the token",
			Attributes: attrs(false, false, ""),
			ProtocolMappers: []store.ProtocolMapper{mapper("acr loa level", MapperACR,
				map[string]string{"id.token.claim": "true", "access.token.claim": "true", "introspection.token.claim": "true"})}}},
		{true, store.ClientScope{Name: "basic", Description: "OpenID Connect scope for add all basic claims to the token",
			Attributes: attrs(false, false, ""),
			ProtocolMappers: []store.ProtocolMapper{
				mapper("auth_time", MapperSessionNote, withConfig(flags(true, true, true, true),
					"user.session.note", "AUTH_TIME", "claim.name", "auth_time", "jsonType.label", "long")),
				mapper("sub", MapperSub, map[string]string{"access.token.claim": "true", "introspection.token.claim": "true"}),
			}}},
		{false, store.ClientScope{Name: "microprofile-jwt", Description: "Microprofile - JWT built-in scope",
			Attributes: attrs(true, false, ""),
			ProtocolMappers: []store.ProtocolMapper{
				attrMapper("upn", "username", "upn", "String"),
				mapper("groups", MapperRealmRole, withConfig(flags(true, true, true, true),
					"user.attribute", "foo", "claim.name", "groups", "jsonType.label", "String", "multivalued", "true")),
			}}},
	}
	for _, s := range all {
		cs := s.cs
		cs.ID, cs.Protocol = NewID(), ProtocolOIDC
		scopes = append(scopes, cs)
		if s.def {
			defaults = append(defaults, cs.ID)
		} else {
			optional = append(optional, cs.ID)
		}
	}
	return scopes, defaults, optional
}
