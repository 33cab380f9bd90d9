// The console's shell: sign-in, the realm switcher, navigation and the
// hash router. Pages live in their own modules and render into #page.

import * as auth from './auth.js';
import { get } from './api.js';
import { fail, hooks, notify } from './ui.js';
import { h, button } from './dom.js';
import * as realmPages from './realms.js';
import * as clientPages from './clients.js';
import * as userPages from './users.js';
import * as more from './more.js';

const $ = (id) => document.getElementById(id);

const state = { realms: [] };

async function reloadRealms() {
  state.realms = await get('/realms');
  drawRealmSwitch(currentRealm());
}

const sections = [
  ['realm-settings', 'Realm settings'],
  ['clients', 'Clients'],
  ['users', 'Users'],
  ['roles', 'Realm roles'],
  ['groups', 'Groups'],
  ['identity-providers', 'Identity providers'],
  ['knox', 'Knox topologies'],
  ['sessions', 'Sessions'],
  ['events', 'Login events'],
  ['admin-events', 'Admin events'],
];

const routes = {
  'realm-settings': realmPages.settings,
  clients: clientPages.route,
  users: userPages.route,
  roles: more.roles,
  groups: more.groups,
  'identity-providers': more.identityProviders,
  knox: more.knox,
  sessions: more.sessions,
  events: more.loginEvents,
  'admin-events': more.adminEvents,
};

function parseHash() {
  const decode = (p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return ''; // a malformed escape names nothing
    }
  };
  const parts = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').map(decode);
  return parts.filter((p, i) => p !== '' || i === 0);
}

function currentRealm() {
  const [realm] = parseHash();
  if (realm && realm !== 'create-realm' && state.realms.some((r) => r.realm === realm)) return realm;
  if (state.realms.some((r) => r.realm === auth.loginRealm)) return auth.loginRealm;
  return state.realms.length ? state.realms[0].realm : '';
}

function drawRealmSwitch(realm) {
  const sw = $('realm-switch');
  sw.replaceChildren(
    h('label', { for: 'realm-select', class: 'visually-hidden' }, 'Realm'),
    h('select', {
      id: 'realm-select', 'data-testid': 'realm-select',
      onchange: (ev) => { location.hash = (`#/${encodeURIComponent(ev.target.value)}/realm-settings`); },
    }, state.realms.map((r) => h('option', { value: r.realm, selected: r.realm === realm }, r.realm))),
    h('a', { href: '#/create-realm', id: 'create-realm-link', 'data-testid': 'create-realm-link' }, 'Create realm'));
}

function drawNav(realm, section) {
  const nav = $('nav');
  nav.hidden = false;
  // A section of its own starts without the last page's message.
  nav.replaceChildren(h('ul', {}, sections.map(([key, label]) => h('li', {},
    h('a', { href: `#/${encodeURIComponent(realm)}/${key}`, id: `nav-${key}`, 'data-testid': `nav-${key}`, 'aria-current': key === section ? 'page' : null, onclick: () => notify('') }, label)))));
}

let renderSeq = 0;
let firstRender = true;

async function render() {
  const seq = ++renderSeq;
  const page = $('page');
  const parts = parseHash();
  const realm = currentRealm();
  if (parts[0] === 'create-realm') {
    drawNav(realm, '');
    drawRealmSwitch(realm);
    page.replaceChildren(realmPages.create());
    return;
  }
  if (parts[0] !== realm || !routes[parts[1]]) {
    location.replace(`#/${encodeURIComponent(realm)}/${routes[parts[1]] && parts[0] === realm ? parts[1] : 'clients'}`);
    return;
  }
  drawRealmSwitch(realm);
  drawNav(realm, parts[1]);
  page.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  let content;
  try {
    content = await routes[parts[1]]({ realm, rest: parts.slice(2) });
  } catch (err) {
    fail(err);
    content = h('p', { id: 'page-error', 'data-testid': 'page-error' }, 'This page could not be loaded.');
  }
  if (seq !== renderSeq) return; // a later navigation won
  page.replaceChildren(content);
  const heading = page.querySelector('h1');
  if (heading) {
    document.title = `${heading.textContent} · Gatehouse`;
    // After a navigation keyboard and screen-reader users continue at the
    // new page's heading, not at the link they left.
    if (!firstRender) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }
  firstRender = false;
}

function noAccess() {
  $('nav').hidden = true;
  $('realm-switch').replaceChildren();
  $('page').replaceChildren(h('section', { id: 'no-access', 'data-testid': 'no-access' },
    h('h1', {}, 'No access'),
    h('p', {}, `You are signed in as ${(auth.user() || {}).preferred_username || 'this user'}, who holds no administration role in any realm.`),
    h('p', {}, 'Ask an administrator for a role of the realm-management client (or the master realm\'s admin role), then sign in again.')));
}

function signedOut() {
  $('page').replaceChildren(h('section', { id: 'signed-out', 'data-testid': 'signed-out' },
    h('h1', {}, 'Signed out'),
    h('p', {}, 'You have signed out of the admin console.'),
    button('sign-in', 'Sign in', () => auth.login(''))));
}

async function start() {
  // The skip link must not change the fragment: that is the router's.
  document.querySelector('.skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    $('main').focus();
  });
  hooks.render = render;
  hooks.reloadRealms = reloadRealms;
  $('sign-out').addEventListener('click', () => auth.logout());
  let done;
  try {
    done = await auth.completeLogin();
  } catch (err) {
    fail(err);
    $('page').replaceChildren(button('sign-in', 'Sign in again', () => auth.login('')));
    return;
  }
  if (!done) {
    if (auth.signedOutLanding()) {
      signedOut();
      return;
    }
    await auth.login(location.hash);
    return;
  }
  const who = auth.user();
  $('whoami').textContent = who.preferred_username || who.sub;
  $('sign-out').hidden = false;
  try {
    await reloadRealms();
  } catch (err) {
    fail(err);
    $('page').replaceChildren(h('p', {}, 'The realms could not be loaded.'));
    return;
  }
  if (!state.realms.length) {
    noAccess();
    return;
  }
  if (done.route) history.replaceState(null, '', auth.consoleURL + done.route);
  window.addEventListener('hashchange', render);
  render();
}

start();
