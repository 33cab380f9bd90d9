// Realm pages: settings (general, token lifespans, brute-force detection)
// and creating a realm.

import { get, put, post, realmPath } from './api.js';
import { h, field, value } from './dom.js';
import { act, go, hooks } from './ui.js';

// Numeric settings by section: [key, label, help].
const lifespans = [
  ['accessTokenLifespan', 'Access token lifespan (seconds)'],
  ['ssoSessionIdleTimeout', 'SSO session idle (seconds)'],
  ['ssoSessionMaxLifespan', 'SSO session max (seconds)'],
  ['clientSessionIdleTimeout', 'Client session idle (seconds)', '0: the SSO session\'s'],
  ['clientSessionMaxLifespan', 'Client session max (seconds)', '0: the SSO session\'s'],
  ['offlineSessionIdleTimeout', 'Offline session idle (seconds)'],
  ['accessCodeLifespan', 'Authorization code lifespan (seconds)'],
  ['accessCodeLifespanLogin', 'Login page lifespan (seconds)'],
  ['refreshTokenMaxReuse', 'Refresh token max reuse'],
];

const bruteForce = [
  ['failureFactor', 'Max login failures'],
  ['waitIncrementSeconds', 'Wait increment (seconds)'],
  ['maxFailureWaitSeconds', 'Max wait (seconds)'],
  ['maxDeltaTimeSeconds', 'Failure reset time (seconds)'],
  ['quickLoginCheckMilliSeconds', 'Quick login check (milliseconds)'],
  ['minimumQuickLoginWaitSeconds', 'Minimum quick login wait (seconds)'],
];

function numbers(rep, list) {
  return list.map(([k, label, help]) => field(`realm-${k}`, label, { type: 'number', min: 0, value: rep[k], help }));
}

function readNumbers(form, list, out) {
  for (const [k] of list) {
    const v = value(form, `realm-${k}`);
    if (v !== undefined) out[k] = v;
  }
}

export async function settings({ realm }) {
  const rep = await get(realmPath(realm));
  const form = h('form', { id: 'realm-settings-form', 'data-testid': 'realm-settings-form' },
    h('fieldset', {}, h('legend', {}, 'General'),
      field('realm-name', 'Realm name', { value: rep.realm, readonly: true }),
      field('realm-displayName', 'Display name', { value: rep.displayName }),
      field('realm-enabled', 'Enabled', { type: 'checkbox', checked: rep.enabled })),
    h('fieldset', {}, h('legend', {}, 'Tokens and sessions'),
      numbers(rep, lifespans),
      field('realm-revokeRefreshToken', 'Revoke refresh token (rotate on use)', { type: 'checkbox', checked: rep.revokeRefreshToken })),
    h('fieldset', {}, h('legend', {}, 'Brute-force detection'),
      field('realm-bruteForceProtected', 'Enabled', { type: 'checkbox', checked: rep.bruteForceProtected }),
      field('realm-permanentLockout', 'Permanent lockout', { type: 'checkbox', checked: rep.permanentLockout }),
      numbers(rep, bruteForce)),
    h('button', { type: 'submit', id: 'realm-save', 'data-testid': 'realm-save' }, 'Save'));
  form.addEventListener('submit', act(async () => {
    const out = {
      displayName: value(form, 'realm-displayName'),
      enabled: value(form, 'realm-enabled'),
      revokeRefreshToken: value(form, 'realm-revokeRefreshToken'),
      bruteForceProtected: value(form, 'realm-bruteForceProtected'),
      permanentLockout: value(form, 'realm-permanentLockout'),
    };
    readNumbers(form, lifespans, out);
    readNumbers(form, bruteForce, out);
    await put(realmPath(realm), out);
    await hooks.reloadRealms();
  }, 'Realm settings saved.'));
  return h('section', {}, h('h1', {}, `Realm settings: ${rep.displayName || rep.realm}`), form);
}

export function create() {
  const form = h('form', { id: 'create-realm-form', 'data-testid': 'create-realm-form' },
    field('new-realm-name', 'Realm name', { required: true }),
    field('new-realm-displayName', 'Display name'),
    field('new-realm-enabled', 'Enabled', { type: 'checkbox', checked: true }),
    h('button', { type: 'submit', id: 'create-realm-submit', 'data-testid': 'create-realm-submit' }, 'Create'));
  form.addEventListener('submit', act(async () => {
    const name = value(form, 'new-realm-name').trim();
    const rep = { realm: name, enabled: value(form, 'new-realm-enabled') };
    const display = value(form, 'new-realm-displayName').trim();
    if (display) rep.displayName = display;
    await post('/realms', rep);
    await hooks.reloadRealms();
    go(`#/${encodeURIComponent(name)}/realm-settings`);
  }, 'Realm created.'));
  return h('section', {}, h('h1', {}, 'Create realm'), form);
}
