// Client pages: list and search, create, and a client's settings,
// credentials (secret and rotated secret), roles and service-account roles.

import { get, post, put, del, realmPath, ApiError } from './api.js';
import { h, field, value, lines, table, button, link, tabs } from './dom.js';
import { act, go, searchForm, searchTerm, notify, confirmButton } from './ui.js';
import { roleMappingEditor } from './roles.js';

const enc = encodeURIComponent;
export const GRACE_ATTR = 'client.secret.rotation.grace.seconds';

export function route(ctx) {
  const [id, tab] = ctx.rest;
  if (!id) return list(ctx);
  if (id === 'new') return create(ctx);
  return client(ctx, id, tab || 'settings');
}

async function list({ realm }) {
  const q = searchTerm();
  const params = new URLSearchParams({ first: '0', max: '100' });
  if (q) {
    params.set('clientId', q);
    params.set('search', 'true');
  }
  const clients = await get(`${realmPath(realm)}/clients?${params}`);
  const search = searchForm('client', 'Search by client ID', `#/${enc(realm)}/clients`);
  return h('section', {},
    h('h1', {}, 'Clients'),
    h('p', {}, link(`#/${enc(realm)}/clients/new`, 'Create client', 'create-client-link')),
    search,
    table('clients-table', [
      ['Client ID', (c) => link(`#/${enc(realm)}/clients/${enc(c.id)}`, c.clientId, `client-link-${c.clientId}`)],
      ['Name', (c) => c.name || ''],
      ['Type', (c) => (c.bearerOnly ? 'bearer-only' : c.publicClient ? 'public' : 'confidential')],
      ['Enabled', (c) => (c.enabled ? 'yes' : 'no')],
    ], clients, q ? 'No client matches the search.' : 'No clients.'));
}

// flowFields are the settings shared by the create and settings forms.
function flowFields(c) {
  return [
    field('client-name', 'Name', { value: c.name }),
    field('client-description', 'Description', { value: c.description }),
    field('client-enabled', 'Enabled', { type: 'checkbox', checked: c.enabled !== false }),
    field('client-confidential', 'Client authentication (confidential client)', { type: 'checkbox', checked: c.publicClient === false, help: 'Off: a public client, which has no secret.' }),
    field('client-standardFlow', 'Standard flow (authorization code)', { type: 'checkbox', checked: c.standardFlowEnabled !== false }),
    field('client-directAccess', 'Direct access grants (password)', { type: 'checkbox', checked: !!c.directAccessGrantsEnabled }),
    field('client-serviceAccounts', 'Service accounts (client credentials)', { type: 'checkbox', checked: !!c.serviceAccountsEnabled }),
    field('client-redirectUris', 'Valid redirect URIs (one per line)', { rows: 3, value: (c.redirectUris || []).join('\n') }),
    field('client-webOrigins', 'Web origins (one per line)', { rows: 2, value: (c.webOrigins || []).join('\n') }),
  ];
}

function readFlowFields(form) {
  return {
    name: value(form, 'client-name'),
    description: value(form, 'client-description'),
    enabled: value(form, 'client-enabled'),
    publicClient: !value(form, 'client-confidential'),
    standardFlowEnabled: value(form, 'client-standardFlow'),
    directAccessGrantsEnabled: value(form, 'client-directAccess'),
    serviceAccountsEnabled: value(form, 'client-serviceAccounts'),
    redirectUris: lines(value(form, 'client-redirectUris')),
    webOrigins: lines(value(form, 'client-webOrigins')),
  };
}

function create({ realm }) {
  const form = h('form', { id: 'create-client-form', 'data-testid': 'create-client-form' },
    field('client-clientId', 'Client ID', { required: true }),
    flowFields({ publicClient: false }),
    h('button', { type: 'submit', id: 'create-client-submit', 'data-testid': 'create-client-submit' }, 'Create'));
  form.addEventListener('submit', act(async () => {
    const clientId = value(form, 'client-clientId').trim();
    await post(`${realmPath(realm)}/clients`, { clientId, protocol: 'openid-connect', ...readFlowFields(form) });
    const [c] = await get(`${realmPath(realm)}/clients?clientId=${enc(clientId)}`);
    go(`#/${enc(realm)}/clients/${enc(c.id)}/settings`);
  }, 'Client created.'));
  return h('section', {}, h('h1', {}, 'Create client'), form);
}

async function client(ctx, id, tab) {
  const { realm } = ctx;
  const c = await get(`${realmPath(realm)}/clients/${enc(id)}`);
  const at = (t) => `#/${enc(realm)}/clients/${enc(id)}/${t}`;
  const items = [['settings', 'Settings', at('settings')]];
  if (!c.publicClient && !c.bearerOnly) items.push(['credentials', 'Credentials', at('credentials')]);
  items.push(['roles', 'Roles', at('roles')]);
  if (c.serviceAccountsEnabled) items.push(['service-account-roles', 'Service account roles', at('service-account-roles')]);
  const pages = { settings, credentials, roles, 'service-account-roles': serviceAccountRoles };
  const body = pages[tab] && items.some(([k]) => k === tab) ? await pages[tab](realm, c) : h('p', {}, 'This client has no such tab.');
  return h('section', {},
    h('h1', { id: 'client-heading', 'data-testid': 'client-heading' }, `Client ${c.clientId}`),
    h('p', {}, link(`#/${enc(realm)}/clients`, 'All clients', 'back-to-clients')),
    tabs(items, tab), body);
}

function settings(realm, c) {
  const form = h('form', { id: 'client-settings-form', 'data-testid': 'client-settings-form' },
    field('client-clientId', 'Client ID', { value: c.clientId, required: true }),
    flowFields(c),
    h('button', { type: 'submit', id: 'client-save', 'data-testid': 'client-save' }, 'Save'));
  form.addEventListener('submit', act(async () => {
    await put(`${realmPath(realm)}/clients/${enc(c.id)}`, { clientId: value(form, 'client-clientId').trim(), ...readFlowFields(form) });
    go(`#/${enc(realm)}/clients/${enc(c.id)}/settings`);
  }, 'Client saved.'));
  const remove = confirmButton('client-delete', 'Delete client', 'Really delete this client?', async () => {
    await del(`${realmPath(realm)}/clients/${enc(c.id)}`);
    go(`#/${enc(realm)}/clients`);
  }, 'Client deleted.');
  return h('div', {}, form, h('p', {}, remove));
}

async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // No clipboard API outside secure contexts: select it for Ctrl+C.
    input.type = 'text';
    input.select();
    notify('Press Ctrl+C to copy the selected secret.');
    return;
  }
  notify('Secret copied to the clipboard.');
}

function secretBox(id, label, secret) {
  const input = h('input', { id, 'data-testid': id, type: 'password', readonly: true, value: secret, autocomplete: 'off', class: 'secret' });
  const show = button(`${id}-show`, 'Show', () => {
    const hidden = input.type === 'password';
    input.type = hidden ? 'text' : 'password';
    show.textContent = hidden ? 'Hide' : 'Show';
    show.setAttribute('aria-pressed', String(hidden));
  });
  show.setAttribute('aria-pressed', 'false');
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('div', { class: 'secret-row' }, input, show, button(`${id}-copy`, 'Copy', () => copy(input))));
}

async function credentials(realm, c) {
  const path = `${realmPath(realm)}/clients/${enc(c.id)}/client-secret`;
  const box = h('div', { id: 'credentials' });
  const draw = async () => {
    let secret;
    try {
      secret = (await get(path)).value;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        box.replaceChildren(h('p', { id: 'secret-forbidden', 'data-testid': 'secret-forbidden' }, 'You may view this client but not its secret (that needs manage-clients).'));
        return;
      }
      throw err;
    }
    let rotated = null;
    try {
      rotated = (await get(`${path}/rotated`)).value;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    const attrs = c.attributes || {};
    const grace = h('form', { id: 'grace-form', class: 'inline' },
      field('client-rotation-grace', 'Rotation grace (seconds)', { type: 'number', min: 0, value: attrs[GRACE_ATTR] || '0', help: 'For this long after a regeneration the previous secret keeps working too.' }),
      h('button', { type: 'submit', id: 'grace-save', 'data-testid': 'grace-save' }, 'Save grace'));
    grace.addEventListener('submit', act(async () => {
      const fresh = await get(`${realmPath(realm)}/clients/${enc(c.id)}`);
      const v = value(grace, 'client-rotation-grace');
      fresh.attributes = { ...(fresh.attributes || {}), [GRACE_ATTR]: String(v ?? 0) };
      await put(`${realmPath(realm)}/clients/${enc(c.id)}`, { attributes: fresh.attributes });
      c.attributes = fresh.attributes;
    }, 'Rotation grace saved.'));
    const regenerate = confirmButton('regenerate-secret', 'Regenerate secret', 'Regenerate now? The current secret stops working', async () => {
      await post(path);
      c.attributes = (await get(`${realmPath(realm)}/clients/${enc(c.id)}`)).attributes;
      await draw();
    }, 'A new secret was generated.');
    const parts = [
      h('p', {}, 'Client authenticator: client ID and secret.'),
      secretBox('client-secret', 'Client secret', secret),
      h('p', {}, regenerate),
      grace,
    ];
    if (rotated !== null) {
      const expires = Number(attrs['client.secret.rotated.expiration.time'] || 0);
      parts.push(h('section', { id: 'rotated-secret-section', 'data-testid': 'rotated-secret-section' },
        h('h2', {}, 'Rotated secret'),
        h('p', {}, expires ? `Still accepted until ${new Date(expires * 1000).toLocaleString()}.` : 'Still accepted during the grace.'),
        secretBox('rotated-secret', 'Rotated secret', rotated),
        confirmButton('invalidate-rotated', 'Invalidate rotated secret', 'Invalidate now?', async () => {
          await del(`${path}/rotated`);
          await draw();
        }, 'The rotated secret no longer works.')));
    }
    box.replaceChildren(...parts);
  };
  await draw();
  return box;
}

async function roles(realm, c) {
  const path = `${realmPath(realm)}/clients/${enc(c.id)}/roles`;
  const list = await get(path);
  const form = h('form', { id: 'client-role-form', class: 'inline' },
    field('client-role-name', 'New role name', { required: true }),
    field('client-role-description', 'Description'),
    h('button', { type: 'submit', id: 'client-role-create', 'data-testid': 'client-role-create' }, 'Create role'));
  form.addEventListener('submit', act(async () => {
    await post(path, { name: value(form, 'client-role-name').trim(), description: value(form, 'client-role-description') });
    go(`#/${enc(realm)}/clients/${enc(c.id)}/roles`);
  }, 'Role created.'));
  return h('div', {}, table('client-roles-table', [
    ['Role', (r) => r.name],
    ['Description', (r) => r.description || ''],
    ['', (r) => confirmButton(`client-role-delete-${r.name}`, 'Delete', 'Really delete?', async () => {
      await del(`${path}/${enc(r.name)}`);
      go(`#/${enc(realm)}/clients/${enc(c.id)}/roles`);
    }, 'Role deleted.')],
  ], list, 'This client has no roles.'), form);
}

async function serviceAccountRoles(realm, c) {
  const u = await get(`${realmPath(realm)}/clients/${enc(c.id)}/service-account-user`);
  return h('div', {}, h('p', {}, `Roles of the service account ${u.username}, which client_credentials tokens carry.`),
    await roleMappingEditor(realm, `/users/${enc(u.id)}`));
}
