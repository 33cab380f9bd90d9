// Client scopes, protocol mappers and scope mappings through Keycloak's own
// admin client library. Usage as flow.mjs; prints "FLOW OK" at the end.
import KcAdminClient from "@keycloak/keycloak-admin-client";
import assert from "node:assert/strict";

const baseUrl = process.env.GATEHOUSE_URL;
const kc = new KcAdminClient({ baseUrl, realmName: "master" });
await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: process.env.ADMIN_PASSWORD });

const realm = "kcscopes-" + Date.now();
await kc.realms.create({ realm, enabled: true });
kc.setConfig({ realmName: realm });

// Built-in scopes and the realm's lists.
const names = (list) => list.map((s) => s.name).sort().join(" ");
assert.equal(names(await kc.clientScopes.listDefaultClientScopes()), "acr basic email profile roles web-origins");
assert.equal(names(await kc.clientScopes.listDefaultOptionalClientScopes()), "address microprofile-jwt offline_access phone");
const profile = await kc.clientScopes.findOneByName({ name: "profile" });
assert.ok(profile.protocolMappers.some((m) => m.protocolMapper === "oidc-full-name-mapper"));

// A scope with a mapper, made a realm default-optional scope.
await kc.clientScopes.create({ name: "tenant", protocol: "openid-connect", attributes: { "include.in.token.scope": "true" } });
const tenant = await kc.clientScopes.findOneByName({ name: "tenant" });
await kc.clientScopes.addProtocolMapper({ id: tenant.id }, {
  name: "tenant", protocol: "openid-connect", protocolMapper: "oidc-hardcoded-claim-mapper",
  config: { "claim.name": "tenant", "claim.value": "acme", "access.token.claim": "true", "jsonType.label": "String" },
});
await kc.clientScopes.addMultipleProtocolMappers({ id: tenant.id }, [{
  name: "dept", protocol: "openid-connect", protocolMapper: "oidc-usermodel-attribute-mapper",
  config: { "user.attribute": "dept", "claim.name": "org.dept", "access.token.claim": "true", multivalued: "true" },
}]);
const mappers = await kc.clientScopes.listProtocolMappers({ id: tenant.id });
assert.equal(mappers.length, 2);
const byProtocol = await kc.clientScopes.findProtocolMappersByProtocol({ id: tenant.id, protocol: "openid-connect" });
assert.equal(byProtocol.length, 2);
const tenantMapper = mappers.find((m) => m.name === "tenant");
await kc.clientScopes.updateProtocolMapper({ id: tenant.id, mapperId: tenantMapper.id }, { ...tenantMapper, config: { ...tenantMapper.config, "claim.value": "globex" } });
assert.equal((await kc.clientScopes.findProtocolMapper({ id: tenant.id, mapperId: tenantMapper.id })).config["claim.value"], "globex");
await kc.clientScopes.addDefaultOptionalClientScope({ id: tenant.id });
assert.ok(names(await kc.clientScopes.listDefaultOptionalClientScopes()).includes("tenant"));

// A client created now has it as an optional scope; its own mapper too.
const { id: clientUUID } = await kc.clients.create({ clientId: "app", serviceAccountsEnabled: true, fullScopeAllowed: false });
assert.ok(names(await kc.clients.listOptionalClientScopes({ id: clientUUID })).includes("tenant"));
assert.ok(names(await kc.clients.listDefaultClientScopes({ id: clientUUID })).includes("profile"));
await kc.clients.addProtocolMapper({ id: clientUUID }, {
  name: "aud", protocol: "openid-connect", protocolMapper: "oidc-audience-mapper",
  config: { "included.custom.audience": "https://api.example", "access.token.claim": "true" },
});
const clientMappers = await kc.clients.listProtocolMappers({ id: clientUUID });
assert.equal(clientMappers.length, 1);
assert.equal((await kc.clients.findProtocolMapperById({ id: clientUUID, mapperId: clientMappers[0].id })).name, "aud");
const phone = await kc.clientScopes.findOneByName({ name: "phone" });
await kc.clients.delOptionalClientScope({ id: clientUUID, clientScopeId: phone.id });
await kc.clients.addDefaultClientScope({ id: clientUUID, clientScopeId: phone.id });
await kc.clients.delDefaultClientScope({ id: clientUUID, clientScopeId: phone.id });

// Scope mappings: the service account's role reaches the token only once
// it is scope-mapped (fullScopeAllowed is off).
await kc.roles.create({ name: "reader" });
const reader = await kc.roles.findOneByName({ name: "reader" });
const sa = await kc.clients.getServiceAccountUser({ id: clientUUID });
await kc.users.addRealmRoleMappings({ id: sa.id, roles: [{ id: reader.id, name: reader.name }] });
assert.ok((await kc.clients.listAvailableRealmScopeMappings({ id: clientUUID })).some((r) => r.name === "reader"));
await kc.clients.addRealmScopeMappings({ id: clientUUID }, [{ id: reader.id, name: reader.name }]);
assert.equal(names(await kc.clients.listRealmScopeMappings({ id: clientUUID })), "reader");
assert.equal(names(await kc.clients.listCompositeRealmScopeMappings({ id: clientUUID })), "reader");
assert.equal((await kc.clients.listScopeMappings({ id: clientUUID })).realmMappings.length, 1);
await kc.clientScopes.addRealmScopeMappings({ id: tenant.id }, [{ id: reader.id, name: reader.name }]);
assert.equal(names(await kc.clientScopes.listRealmScopeMappings({ id: tenant.id })), "reader");
await kc.clientScopes.delRealmScopeMappings({ id: tenant.id }, [{ id: reader.id, name: reader.name }]);

const { value: secret } = await kc.clients.getClientSecret({ id: clientUUID });
const res = await fetch(`${baseUrl}/realms/${realm}/protocol/openid-connect/token`, {
  method: "POST",
  headers: {
    "Content-Type": "application/x-www-form-urlencoded",
    Authorization: "Basic " + Buffer.from(`app:${secret}`).toString("base64"),
  },
  body: new URLSearchParams({ grant_type: "client_credentials", scope: "tenant" }),
});
assert.equal(res.status, 200, await res.clone().text());
const { access_token, scope } = await res.json();
assert.equal(scope, "tenant profile email");
const claims = JSON.parse(Buffer.from(access_token.split(".")[1], "base64url").toString());
assert.equal(claims.tenant, "globex", JSON.stringify(claims));
assert.equal(claims.aud, "https://api.example", JSON.stringify(claims));
assert.deepEqual(claims.realm_access.roles, ["reader"], JSON.stringify(claims));

// Clean up through the library.
await kc.clients.delProtocolMapper({ id: clientUUID, mapperId: clientMappers[0].id });
await kc.clientScopes.delProtocolMapper({ id: tenant.id, mapperId: tenantMapper.id });
await kc.clientScopes.delDefaultOptionalClientScope({ id: tenant.id });
await kc.clientScopes.del({ id: tenant.id });
await kc.realms.del({ realm });
console.log("FLOW OK");
