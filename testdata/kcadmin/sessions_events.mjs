// Keycloak's admin client against Gatehouse: realm settings, default
// clients, user search, sessions, login and admin events, keys, user
// profile and server info (issue 12).
// Usage: GATEHOUSE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node sessions_events.mjs
// Exits non-zero on the first step that fails; prints "FLOW OK" at the end.
import KcAdminClient from "@keycloak/keycloak-admin-client";
import assert from "node:assert/strict";

const baseUrl = process.env.GATEHOUSE_URL;
const kc = new KcAdminClient({ baseUrl, realmName: "master" });
await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: process.env.ADMIN_PASSWORD });

const realm = "kcsessions-" + Date.now();
await kc.realms.create({ realm, enabled: true });
kc.setConfig({ realmName: realm });

// Realm settings round-trip; the default clients are there.
await kc.realms.update({ realm }, { offlineSessionIdleTimeout: 1000, loginWithEmailAllowed: false, sslRequired: "all" });
const rep = await kc.realms.findOne({ realm });
assert.equal(rep.offlineSessionIdleTimeout, 1000);
assert.equal(rep.loginWithEmailAllowed, false);
assert.equal(rep.sslRequired, "all");
await kc.realms.update({ realm }, rep);
for (const clientId of ["admin-cli", "account", "account-console", "broker", "realm-management", "security-admin-console"]) {
  const [c] = await kc.clients.find({ clientId });
  assert.ok(c, clientId);
}

// Events on, then a login of alice through client app.
await kc.realms.updateConfigEvents({ realm }, { eventsEnabled: true });
const cfg = await kc.realms.getConfigEvents({ realm });
assert.equal(cfg.eventsEnabled, true);
const { id: appUUID } = await kc.clients.create({ clientId: "app", publicClient: true, directAccessGrantsEnabled: true });
const { id: userId } = await kc.users.create({
  username: "alice", enabled: true, email: "alice@example.com", firstName: "Alice",
  attributes: { dept: ["eng"] }, credentials: [{ type: "password", value: "alice-Pass1", temporary: false }],
});
const login = await fetch(`${baseUrl}/realms/${realm}/protocol/openid-connect/token`, {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ grant_type: "password", client_id: "app", username: "alice", password: "alice-Pass1" }),
});
assert.equal(login.status, 200, await login.clone().text());

// User search.
assert.equal((await kc.users.find({ search: "ali" })).length, 1);
assert.equal((await kc.users.find({ q: "dept:eng" })).length, 1);
assert.equal((await kc.users.find({ q: "dept:ops" })).length, 0);
assert.equal((await kc.users.find({ search: "ali", briefRepresentation: true }))[0].attributes, undefined);
assert.equal(await kc.users.count({ search: "ali" }), 1);

// Sessions.
const sessions = await kc.users.listSessions({ id: userId });
assert.equal(sessions.length, 1);
assert.equal(sessions[0].clients[appUUID], "app");
assert.equal((await kc.users.listOfflineSessions({ id: userId, clientId: appUUID })).length, 0);
assert.equal((await kc.clients.listSessions({ id: appUUID })).length, 1);
assert.equal((await kc.clients.listOfflineSessions({ id: appUUID })).length, 0);
assert.equal((await kc.clients.getSessionCount({ id: appUUID })).count, 1);
assert.equal((await kc.clients.getOfflineSessionCount({ id: appUUID })).count, 0);
const stats = await kc.realms.getClientSessionStats({ realm });
assert.equal(stats.find((s) => s.clientId === "app").active, "1");
await kc.realms.deleteSession({ realm, session: sessions[0].id, isOffline: false });
assert.equal((await kc.users.listSessions({ id: userId })).length, 0);
await kc.users.logout({ id: userId });
await kc.realms.logoutAll({ realm });
await kc.realms.pushRevocation({ realm });

// Login events and admin events.
const events = await kc.realms.findEvents({ realm, type: ["LOGIN"] });
assert.equal(events.length, 1);
assert.equal(events[0].userId, userId);
await kc.realms.clearEvents({ realm });
assert.equal((await kc.realms.findEvents({ realm })).length, 0);
const adminEvents = await kc.realms.findAdminEvents({ realm, operationTypes: "CREATE", resourceTypes: "USER" });
assert.ok(adminEvents.length >= 1, JSON.stringify(adminEvents));
await kc.realms.clearAdminEvents({ realm });

// Keys, user profile, server info.
const keys = await kc.realms.getKeys({ realm });
assert.ok(keys.active.RS256, JSON.stringify(keys));
const profile = await kc.users.getProfile();
assert.ok(profile.attributes.some((a) => a.name === "username"));
const info = await kc.serverInfo.find();
assert.ok(info.systemInfo.version);

await kc.realms.del({ realm });
console.log("FLOW OK");
