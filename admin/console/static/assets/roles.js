// Role mappings of a user (or a service account): realm roles and one
// client's roles at a time, assigned and available, as the admin API
// lists them for the caller.

import { get, post, del, realmPath, ApiError } from './api.js';
import { h, field, value, table, button } from './dom.js';
import { act, confirmButton } from './ui.js';

const enc = encodeURIComponent;

// roleMappingEditor edits the role mappings of holder ("/users/{id}").
export async function roleMappingEditor(realm, holder) {
  // An admin who may not list clients still manages realm roles here.
  const clients = await get(`${realmPath(realm)}/clients?first=0&max=1000`).catch((err) => {
    if (err instanceof ApiError && err.status === 403) return [];
    throw err;
  });
  const box = h('div', { id: 'role-mappings', 'data-testid': 'role-mappings' });
  let container = 'realm';
  const draw = async () => {
    const base = `${realmPath(realm)}${holder}/role-mappings/${container}`;
    const [assigned, available] = await Promise.all([get(base), get(`${base}/available`)]);
    const pick = h('form', { id: 'role-add-form', class: 'inline' },
      field('role-add', 'Role to assign', { options: available.map((r) => [r.id, r.name]) }),
      h('button', { type: 'submit', id: 'role-add-submit', 'data-testid': 'role-add-submit', disabled: !available.length }, 'Assign'));
    pick.addEventListener('submit', act(async () => {
      const id = value(pick, 'role-add');
      await post(base, available.filter((r) => r.id === id));
      await draw();
    }, 'Role assigned.'));
    box.replaceChildren(which,
      table('assigned-roles-table', [
        ['Assigned role', (r) => r.name],
        ['Description', (r) => r.description || ''],
        ['', (r) => button(`role-remove-${r.name}`, 'Unassign', act(async () => {
          await del(base, [r]);
          await draw();
        }, 'Role unassigned.'))],
      ], assigned, 'No roles assigned here.'),
      available.length ? pick : h('p', {}, 'No more roles to assign here.'));
  };
  const which = field('role-container', 'Roles of', {
    options: [['realm', 'the realm'], ...clients.map((c) => [`clients/${c.id}`, `client ${c.clientId}`])],
    value: container,
  });
  which.querySelector('select').addEventListener('change', act(async (ev) => {
    container = ev.target.value;
    await draw();
  }));
  await draw();
  return box;
}

// realmRoles is the realm roles page: list, create, delete.
export async function realmRoles({ realm }) {
  const path = `${realmPath(realm)}/roles`;
  const list = await get(path);
  const box = h('section', {}, h('h1', {}, 'Realm roles'));
  const form = h('form', { id: 'realm-role-form', class: 'inline' },
    field('realm-role-name', 'New role name', { required: true }),
    field('realm-role-description', 'Description'),
    h('button', { type: 'submit', id: 'realm-role-create', 'data-testid': 'realm-role-create' }, 'Create role'));
  const redraw = async () => box.replaceWith(await realmRoles({ realm }));
  form.addEventListener('submit', act(async () => {
    await post(path, { name: value(form, 'realm-role-name').trim(), description: value(form, 'realm-role-description') });
    await redraw();
  }, 'Role created.'));
  box.append(table('realm-roles-table', [
    ['Role', (r) => r.name],
    ['Composite', (r) => (r.composite ? 'yes' : 'no')],
    ['Description', (r) => r.description || ''],
    ['', (r) => confirmButton(`realm-role-delete-${r.name}`, 'Delete', 'Really delete?', async () => {
      await del(`${path}/${enc(r.name)}`);
      await redraw();
    }, 'Role deleted.')],
  ], list, 'No realm roles.'), form);
  return box;
}
