// User pages: list and search, create, and a user's details, password,
// role mappings, groups, sessions and API keys.

import { get, post, put, del, realmPath, allGroups } from './api.js';
import { h, field, value, table, button, link, tabs, when } from './dom.js';
import { act, go, searchForm, searchTerm, confirmButton } from './ui.js';
import { roleMappingEditor } from './roles.js';

const enc = encodeURIComponent;

export function route(ctx) {
  const [id, tab] = ctx.rest;
  if (!id) return list(ctx);
  if (id === 'new') return create(ctx);
  return user(ctx, id, tab || 'details');
}

async function list({ realm }) {
  const q = searchTerm();
  const params = new URLSearchParams({ first: '0', max: '100', briefRepresentation: 'true' });
  if (q) params.set('search', q);
  const users = await get(`${realmPath(realm)}/users?${params}`);
  const search = searchForm('user', 'Search users (username, email, name)', `#/${enc(realm)}/users`);
  return h('section', {},
    h('h1', {}, 'Users'),
    h('p', {}, link(`#/${enc(realm)}/users/new`, 'Create user', 'create-user-link')),
    search,
    table('users-table', [
      ['Username', (u) => link(`#/${enc(realm)}/users/${enc(u.id)}`, u.username, `user-link-${u.username}`)],
      ['Email', (u) => u.email || ''],
      ['Name', (u) => [u.firstName, u.lastName].filter(Boolean).join(' ')],
      ['Enabled', (u) => (u.enabled ? 'yes' : 'no')],
    ], users, q ? 'No user matches the search.' : 'No users.'));
}

function detailFields(u) {
  return [
    field('user-email', 'Email', { type: 'email', value: u.email }),
    field('user-firstName', 'First name', { value: u.firstName }),
    field('user-lastName', 'Last name', { value: u.lastName }),
    field('user-enabled', 'Enabled', { type: 'checkbox', checked: u.enabled !== false }),
  ];
}

function readDetails(form) {
  const out = { firstName: value(form, 'user-firstName'), lastName: value(form, 'user-lastName'), enabled: value(form, 'user-enabled') };
  const email = value(form, 'user-email').trim();
  if (email) out.email = email;
  return out;
}

function create({ realm }) {
  const form = h('form', { id: 'create-user-form', 'data-testid': 'create-user-form' },
    field('user-username', 'Username', { required: true }),
    detailFields({}),
    h('button', { type: 'submit', id: 'create-user-submit', 'data-testid': 'create-user-submit' }, 'Create'));
  form.addEventListener('submit', act(async () => {
    const username = value(form, 'user-username').trim();
    await post(`${realmPath(realm)}/users`, { username, ...readDetails(form) });
    const [u] = await get(`${realmPath(realm)}/users?exact=true&username=${enc(username)}`);
    go(`#/${enc(realm)}/users/${enc(u.id)}/credentials`);
  }, 'User created.'));
  return h('section', {}, h('h1', {}, 'Create user'), form);
}

async function user({ realm }, id, tab) {
  const path = `${realmPath(realm)}/users/${enc(id)}`;
  const u = await get(path);
  const at = (t) => `#/${enc(realm)}/users/${enc(id)}/${t}`;
  const items = [['details', 'Details'], ['credentials', 'Credentials'], ['role-mapping', 'Role mapping'],
    ['groups', 'Groups'], ['sessions', 'Sessions'], ['api-keys', 'API keys']].map(([k, l]) => [k, l, at(k)]);
  const pages = { details, credentials, 'role-mapping': roleMapping, groups, sessions, 'api-keys': apiKeys };
  const ctx = { realm, u, path, again: () => go(at(tab)) };
  const body = pages[tab] ? await pages[tab](ctx) : h('p', {}, 'This user has no such tab.');
  return h('section', {},
    h('h1', { id: 'user-heading', 'data-testid': 'user-heading' }, `User ${u.username}`),
    h('p', {}, link(`#/${enc(realm)}/users`, 'All users', 'back-to-users')),
    tabs(items, tab), body);
}

function details({ realm, u, path, again }) {
  const form = h('form', { id: 'user-details-form', 'data-testid': 'user-details-form' },
    field('user-username', 'Username', { value: u.username, readonly: true }),
    detailFields(u),
    h('button', { type: 'submit', id: 'user-save', 'data-testid': 'user-save' }, 'Save'));
  form.addEventListener('submit', act(async () => {
    await put(path, readDetails(form));
    again();
  }, 'User saved.'));
  return h('div', {}, form, h('p', {}, confirmButton('user-delete', 'Delete user', 'Really delete this user?', async () => {
    await del(path);
    go(`#/${enc(realm)}/users`);
  }, 'User deleted.')));
}

function credentials({ path }) {
  const form = h('form', { id: 'user-password-form', 'data-testid': 'user-password-form' },
    field('user-password', 'New password', { type: 'password', required: true, autocomplete: 'new-password' }),
    field('user-password-confirm', 'Confirm password', { type: 'password', required: true, autocomplete: 'new-password' }),
    field('user-password-temporary', 'Temporary (the user must change it at the next sign-in)', { type: 'checkbox', checked: true }),
    h('button', { type: 'submit', id: 'user-password-submit', 'data-testid': 'user-password-submit' }, 'Set password'));
  form.addEventListener('submit', act(async () => {
    const pw = value(form, 'user-password');
    if (pw !== value(form, 'user-password-confirm')) throw new Error('the passwords do not match');
    await put(`${path}/reset-password`, { type: 'password', value: pw, temporary: value(form, 'user-password-temporary') });
    form.reset();
  }, 'Password set.'));
  return form;
}

function roleMapping({ realm, u }) {
  return roleMappingEditor(realm, `/users/${enc(u.id)}`);
}

async function groups({ realm, path, again }) {
  const [mine, flat] = await Promise.all([get(`${path}/groups`), allGroups(realm)]);
  const member = new Set(mine.map((g) => g.id));
  const candidates = flat.filter((g) => !member.has(g.id));
  const join = h('form', { id: 'user-join-form', class: 'inline' },
    field('user-join-group', 'Group to join', { options: candidates.map((g) => [g.id, g.path || g.name]) }),
    h('button', { type: 'submit', id: 'user-join-submit', 'data-testid': 'user-join-submit', disabled: !candidates.length }, 'Join'));
  join.addEventListener('submit', act(async () => {
    await put(`${path}/groups/${enc(value(join, 'user-join-group'))}`);
    again();
  }, 'Joined the group.'));
  return h('div', {}, table('user-groups-table', [
    ['Group', (g) => g.path || g.name],
    ['', (g) => button(`user-leave-${g.name}`, 'Leave', act(async () => {
      await del(`${path}/groups/${enc(g.id)}`);
      again();
    }, 'Left the group.'))],
  ], mine, 'Not a member of any group.'), join);
}

async function sessions({ path, again }) {
  const list = await get(`${path}/sessions`);
  return h('div', {}, table('user-sessions-table', [
    ['Started', (s) => when(s.start)],
    ['Last access', (s) => when(s.lastAccess)],
    ['IP address', (s) => s.ipAddress],
    ['Clients', (s) => Object.values(s.clients || {}).join(', ')],
  ], list, 'No active sessions.'),
  h('p', {}, confirmButton('user-logout', 'Sign out of all sessions', 'Really end every session of this user?', async () => {
    await post(`${path}/logout`);
    again();
  }, 'All sessions of the user ended.')));
}

async function apiKeys({ path, again }) {
  const keys = await get(`${path}/api-keys`);
  return h('div', {}, table('user-api-keys-table', [
    ['Key ID', (k) => k.keyId],
    ['Description', (k) => k.description || ''],
    ['Created', (k) => new Date(k.createdAt).toLocaleString()],
    ['Expires', (k) => new Date(k.expiresAt).toLocaleString()],
    ['', (k) => confirmButton(`api-key-delete-${k.keyId}`, 'Revoke', 'Really revoke?', async () => {
      await del(`${path}/api-keys/${enc(k.keyId)}`);
      again();
    }, 'API key revoked.')],
  ], keys, 'This user has no API keys. Users create their own keys with the API key endpoint.'));
}
