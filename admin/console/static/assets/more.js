// The remaining realm pages: realm roles, groups, identity providers, Knox
// topologies, sessions, login events and admin events.

import { get, post, put, del, realmPath, ApiError, allGroups } from './api.js';
import { h, field, value, table, button, when } from './dom.js';
import { act, confirmButton } from './ui.js';
import { realmRoles } from './roles.js';

const enc = encodeURIComponent;

// page builds a section whose actions redraw it in place.
async function page(title, ctx, build) {
  const box = h('section', {});
  const draw = async () => {
    const parts = await build(draw);
    box.replaceChildren(h('h1', {}, title), ...parts);
  };
  await draw();
  return box;
}

export const roles = realmRoles;

export function groups(ctx) {
  const path = `${realmPath(ctx.realm)}/groups`;
  return page('Groups', ctx, async (draw) => {
    const flat = await allGroups(ctx.realm);
    const form = h('form', { id: 'group-create-form', class: 'inline' },
      field('group-name', 'New group name', { required: true }),
      field('group-parent', 'Parent', { options: [['', '(top level)'], ...flat.map((g) => [g.id, g.path])] }),
      h('button', { type: 'submit', id: 'group-create', 'data-testid': 'group-create' }, 'Create group'));
    form.addEventListener('submit', act(async () => {
      const parent = value(form, 'group-parent');
      await post(parent ? `${path}/${enc(parent)}/children` : path, { name: value(form, 'group-name').trim() });
      await draw();
    }, 'Group created.'));
    return [table('groups-table', [
      ['Path', (g) => g.path],
      ['', (g) => confirmButton(`group-delete-${g.path}`, 'Delete', 'Really delete with its subgroups?', async () => {
        await del(`${path}/${enc(g.id)}`);
        await draw();
      }, 'Group deleted.')],
    ], flat, 'No groups.'), form];
  });
}

export function identityProviders(ctx) {
  const path = `${realmPath(ctx.realm)}/identity-provider/instances`;
  return page('Identity providers', ctx, async (draw) => {
    const list = await get(path);
    const form = h('form', { id: 'idp-create-form', 'data-testid': 'idp-create-form' },
      h('h2', {}, 'Add an OpenID Connect provider'),
      field('idp-alias', 'Alias', { required: true }),
      field('idp-displayName', 'Display name'),
      field('idp-issuer', 'Issuer URL', { type: 'url', required: true }),
      field('idp-jwksUrl', 'JWKS URL', { type: 'url', help: 'Required unless the issuer is a realm of this server.' }),
      field('idp-clientId', 'Client ID'),
      field('idp-clientSecret', 'Client secret', { type: 'password', autocomplete: 'new-password' }),
      h('button', { type: 'submit', id: 'idp-create', 'data-testid': 'idp-create' }, 'Add provider'));
    form.addEventListener('submit', act(async () => {
      const config = {};
      for (const k of ['issuer', 'jwksUrl', 'clientId', 'clientSecret']) {
        const v = value(form, `idp-${k}`).trim();
        if (v) config[k] = v;
      }
      const rep = { alias: value(form, 'idp-alias').trim(), providerId: 'oidc', enabled: true, config };
      const display = value(form, 'idp-displayName').trim();
      if (display) rep.displayName = display;
      await post(path, rep);
      await draw();
    }, 'Identity provider added.'));
    return [table('idps-table', [
      ['Alias', (p) => p.alias],
      ['Display name', (p) => p.displayName || ''],
      ['Provider', (p) => p.providerId],
      ['Issuer', (p) => (p.config || {}).issuer || ''],
      ['Enabled', (p) => (p.enabled === false ? 'no' : 'yes')],
      ['', (p) => confirmButton(`idp-delete-${p.alias}`, 'Delete', 'Really delete?', async () => {
        await del(`${path}/${enc(p.alias)}`);
        await draw();
      }, 'Identity provider deleted.')],
    ], list, 'No identity providers.'), form];
  });
}

// knox lists the gateway topologies of this realm. Topologies are global
// (named by the gateway), each bound to one realm; this page edits the
// current realm's as JSON, as the admin API takes them.
export function knox(ctx) {
  const path = '/gateway/topologies';
  return page('Knox topologies', ctx, async (draw) => {
    const list = (await get(path)).filter((t) => t.realm === ctx.realm);
    const form = h('form', { id: 'topology-form', 'data-testid': 'topology-form' },
      h('h2', {}, 'Create or replace a topology'),
      field('topology-name', 'Name', { required: true }),
      field('topology-json', 'Topology (JSON)', {
        rows: 8,
        value: JSON.stringify({ realm: ctx.realm, authentication: 'basic', ttl: 'PT1H', audiences: [], renewers: [] }, null, 2),
      }),
      h('button', { type: 'submit', id: 'topology-save', 'data-testid': 'topology-save' }, 'Save topology'));
    form.addEventListener('submit', act(async () => {
      let rep;
      try {
        rep = JSON.parse(value(form, 'topology-json'));
      } catch (err) {
        throw new Error(`the topology is not valid JSON (${err.message})`);
      }
      await put(`${path}/${enc(value(form, 'topology-name').trim())}`, rep);
      await draw();
    }, 'Topology saved.'));
    return [table('topologies-table', [
      ['Name', (t) => t.name],
      ['Authentication', (t) => t.authentication],
      ['Target URL', (t) => t.targetUrl],
      ['Audiences', (t) => (t.audiences || []).join(', ')],
      ['', (t) => h('span', {},
        button(`topology-edit-${t.name}`, 'Edit', () => {
          const { name, ...rest } = t;
          form.querySelector('#topology-name').value = name;
          form.querySelector('#topology-json').value = JSON.stringify(rest, null, 2);
          form.querySelector('#topology-name').focus();
        }),
        ' ',
        confirmButton(`topology-delete-${t.name}`, 'Delete', 'Really delete?', async () => {
          await del(`${path}/${enc(t.name)}`);
          await draw();
        }, 'Topology deleted.'))],
    ], list, 'No topologies of this realm.'), form];
  });
}

export function sessions(ctx) {
  const rp = realmPath(ctx.realm);
  return page('Sessions', ctx, async (draw) => {
    const stats = await get(`${rp}/client-session-stats`);
    const byID = new Map();
    for (const s of stats.filter((x) => Number(x.active) > 0)) {
      for (const sess of await get(`${rp}/clients/${enc(s.id)}/user-sessions?first=0&max=1000`)) byID.set(sess.id, sess);
    }
    return [
      table('sessions-table', [
        ['User', (s) => s.username],
        ['Started', (s) => when(s.start)],
        ['Last access', (s) => when(s.lastAccess)],
        ['IP address', (s) => s.ipAddress],
        ['Clients', (s) => Object.values(s.clients || {}).join(', ')],
        ['', (s) => button(`session-end-${s.id}`, 'Sign out', act(async () => {
          await del(`${rp}/sessions/${enc(s.id)}`);
          await draw();
        }, 'Session ended.'))],
      ], [...byID.values()], 'No active sessions.'),
      h('p', {}, confirmButton('logout-all', 'Sign out all sessions', 'Really end every session of the realm?', async () => {
        await post(`${rp}/logout-all`);
        await draw();
      }, 'All sessions ended.')),
    ];
  });
}

// events builds an event log page; login adds the recording switch and
// the clear button (admin events are always recorded and kept).
function events(title, id, suffix, columns, login) {
  return (ctx) => page(title, ctx, async (draw) => {
    const rp = realmPath(ctx.realm);
    const path = `${rp}/${suffix}`;
    let list;
    try {
      list = await get(`${path}?first=0&max=100`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return [h('p', { 'data-testid': `${id}-forbidden` }, err.message)];
      throw err;
    }
    const parts = [h('p', {}, 'The newest 100 events.'), table(id, columns, list, 'No events recorded.')];
    if (login) {
      const config = await get(`${rp}/events/config`);
      const form = h('form', { id: 'events-config-form', class: 'inline' },
        field('events-enabled', 'Record login events', { type: 'checkbox', checked: config.eventsEnabled }),
        h('button', { type: 'submit', id: 'events-config-save', 'data-testid': 'events-config-save' }, 'Save'));
      form.addEventListener('submit', act(async () => {
        await put(`${rp}/events/config`, { eventsEnabled: value(form, 'events-enabled') });
        await draw();
      }, 'Event settings saved.'));
      parts.unshift(form);
      parts.push(h('p', {}, confirmButton(`${id}-clear`, 'Clear events', 'Really delete every event?', async () => {
        await del(path);
        await draw();
      }, 'Events cleared.')));
    }
    return parts;
  });
}

export const loginEvents = events('Login events', 'login-events-table', 'events', [
  ['Time', (e) => when(e.time)],
  ['Type', (e) => e.type],
  ['Client', (e) => e.clientId || ''],
  ['User', (e) => (e.details && e.details.username) || e.userId || ''],
  ['IP address', (e) => e.ipAddress || ''],
  ['Error', (e) => e.error || ''],
], true);

export const adminEvents = events('Admin events', 'admin-events-table', 'admin-events', [
  ['Time', (e) => when(e.time)],
  ['Operation', (e) => e.operationType],
  ['Resource', (e) => `${e.resourceType} ${e.resourcePath}`],
  ['By', (e) => (e.authDetails && (e.authDetails.username || e.authDetails.userId)) || ''],
  ['IP address', (e) => (e.authDetails && e.authDetails.ipAddress) || ''],
], false);
