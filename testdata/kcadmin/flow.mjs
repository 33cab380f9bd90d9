// Keycloak's own admin client library, used unchanged against Gatehouse.
// Usage: GATEHOUSE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node flow.mjs
// Exits non-zero on the first step that fails; prints "FLOW OK" at the end.
import KcAdminClient from "@keycloak/keycloak-admin-client";
import assert from "node:assert/strict";

const baseUrl = process.env.GATEHOUSE_URL;
const kc = new KcAdminClient({ baseUrl, realmName: "master" });
await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: process.env.ADMIN_PASSWORD });

const realm = "kcadmin-" + Date.now();
await kc.realms.create({ realm, enabled: true });
const found = await kc.realms.findOne({ realm });
assert.equal(found.realm, realm);
kc.setConfig({ realmName: realm });

const { id: clientUUID } = await kc.clients.create({
  clientId: "app", publicClient: false, serviceAccountsEnabled: true, directAccessGrantsEnabled: true,
});
const first = await kc.clients.getClientSecret({ id: clientUUID });
assert.equal(first.type, "secret");
const regenerated = await kc.clients.generateNewClientSecret({ id: clientUUID });
assert.notEqual(regenerated.value, first.value);
const [listed] = await kc.clients.find({ clientId: "app" });
assert.equal(listed.id, clientUUID);

const { id: userId } = await kc.users.create({
  username: "alice", enabled: true, email: "alice@example.com",
  credentials: [{ type: "password", value: "first-Pass1", temporary: false }],
});
await kc.users.resetPassword({ id: userId, credential: { type: "password", value: "second-Pass2", temporary: false } });
await kc.roles.create({ name: "reader" });
const role = await kc.roles.findOneByName({ name: "reader" });
await kc.users.addRealmRoleMappings({ id: userId, roles: [{ id: role.id, name: role.name }] });
const mapped = await kc.users.listRealmRoleMappings({ id: userId });
assert.ok(mapped.some((r) => r.name === "reader"));

// The role appears in alice's next token, obtained with the regenerated secret.
const res = await fetch(`${baseUrl}/realms/${realm}/protocol/openid-connect/token`, {
  method: "POST",
  headers: {
    "Content-Type": "application/x-www-form-urlencoded",
    Authorization: "Basic " + Buffer.from(`app:${regenerated.value}`).toString("base64"),
  },
  body: new URLSearchParams({ grant_type: "password", username: "alice", password: "second-Pass2" }),
});
assert.equal(res.status, 200, await res.clone().text());
const { access_token } = await res.json();
const claims = JSON.parse(Buffer.from(access_token.split(".")[1], "base64url").toString());
assert.ok(claims.realm_access.roles.includes("reader"), JSON.stringify(claims));

// The old secret no longer works.
const old = await fetch(`${baseUrl}/realms/${realm}/protocol/openid-connect/token`, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "client_credentials", client_id: "app", client_secret: first.value }),
});
assert.equal(old.status, 401);

// Composite roles: reader gains "inner" by id; alice (holding reader) has
// it effectively, and findUsersWithRole lists her as a direct holder.
await kc.roles.create({ name: "inner" });
const inner = await kc.roles.findOneByName({ name: "inner" });
await kc.roles.createComposite({ roleId: role.id }, [inner]);
assert.deepEqual((await kc.roles.getCompositeRoles({ id: role.id })).map((r) => r.name), ["inner"]);
assert.deepEqual((await kc.roles.getCompositeRolesForRealm({ id: role.id })).map((r) => r.name), ["inner"]);
assert.deepEqual(await kc.roles.getCompositeRolesForClient({ id: role.id, clientId: clientUUID }), []);
assert.equal((await kc.roles.findOneByName({ name: "reader" })).composite, true);
assert.deepEqual((await kc.roles.findUsersWithRole({ name: "reader" })).map((u) => u.username), ["alice"]);
const effective = await kc.users.listCompositeRealmRoleMappings({ id: userId });
assert.ok(effective.some((r) => r.name === "inner"), JSON.stringify(effective));
const available = await kc.users.listAvailableRealmRoleMappings({ id: userId });
assert.ok(!available.some((r) => r.name === "inner"), JSON.stringify(available));
const all = await kc.users.listRoleMappings({ id: userId });
assert.ok(all.realmMappings.some((r) => r.name === "reader"), JSON.stringify(all));

// Groups: a tree, attributes, members, role mappings inherited by a
// subgroup's member.
const { id: staff } = await kc.groups.create({ name: "staff", attributes: { site: ["paris"] } });
const { id: team } = await kc.groups.createChildGroup({ id: staff }, { name: "team" });
assert.equal((await kc.groups.count()).count, 2);
const top = await kc.groups.find();
assert.equal(top.length, 1);
assert.equal(top[0].subGroupCount, 1);
const subs = await kc.groups.listSubGroups({ parentId: staff });
assert.equal(subs[0].path, "/staff/team");
await kc.groups.update({ id: staff }, { name: "staff", attributes: { site: ["lyon"] } });
assert.deepEqual((await kc.groups.findOne({ id: staff })).attributes, { site: ["lyon"] });
await kc.roles.create({ name: "staff-role" });
const staffRole = await kc.roles.findOneByName({ name: "staff-role" });
await kc.groups.addRealmRoleMappings({ id: staff, roles: [{ id: staffRole.id, name: staffRole.name }] });
assert.deepEqual((await kc.groups.listRealmRoleMappings({ id: staff })).map((r) => r.name), ["staff-role"]);
const teamComposite = await kc.groups.listCompositeRealmRoleMappings({ id: team });
assert.ok(teamComposite.some((r) => r.name === "staff-role"), JSON.stringify(teamComposite));
await kc.users.addToGroup({ id: userId, groupId: team });
assert.deepEqual((await kc.users.listGroups({ id: userId })).map((g) => g.path), ["/staff/team"]);
assert.equal((await kc.users.countGroups({ id: userId })).count, 1);
assert.deepEqual((await kc.groups.listMembers({ id: team })).map((u) => u.username), ["alice"]);
const aliceComposite = await kc.users.listCompositeRealmRoleMappings({ id: userId });
assert.ok(aliceComposite.some((r) => r.name === "staff-role"), JSON.stringify(aliceComposite));
// Move team under another group with the representation as read (its
// parentId still the old parent), then back.
const { id: other } = await kc.groups.create({ name: "other" });
const teamRep = await kc.groups.findOne({ id: team });
assert.equal(teamRep.parentId, staff);
await kc.groups.updateChildGroup({ id: other }, teamRep);
assert.deepEqual((await kc.groups.listSubGroups({ parentId: other })).map((g) => g.path), ["/other/team"]);
await kc.groups.updateChildGroup({ id: staff }, await kc.groups.findOne({ id: team }));
await kc.groups.del({ id: other });
await kc.users.delFromGroup({ id: userId, groupId: team });
assert.equal((await kc.users.countGroups({ id: userId })).count, 0);
await kc.groups.del({ id: staff });
assert.equal((await kc.groups.count()).count, 0);

await kc.realms.del({ realm });
console.log("FLOW OK");
