// Messages and actions shared by every page. The shell (app.js) fills
// hooks, so pages need not import it.

import { AuthError } from './auth.js';
import { ApiError } from './api.js';
import { h, field, value } from './dom.js';

export const hooks = { render: () => {}, reloadRealms: async () => {} };

const message = () => document.getElementById('message');

// notify shows a message to the user (role=alert, so screen readers hear
// it); kind is 'error' or 'ok'.
export function notify(text, kind = 'ok') {
  const m = message();
  m.textContent = text;
  m.className = text ? `message ${kind}` : '';
}

export function fail(err) {
  if (err instanceof AuthError) {
    notify(`${err.message} Reload the page to sign in again.`, 'error');
  } else if (err instanceof ApiError) {
    notify(err.message, 'error');
  } else {
    notify(`Something went wrong: ${err.message}`, 'error');
    console.error(err);
  }
}

// act wraps the action of a button or form: it clears the last message,
// runs fn and shows its failure, or done on success.
export function act(fn, done) {
  return async (ev) => {
    if (ev && ev.preventDefault) ev.preventDefault();
    notify('');
    try {
      await fn(ev);
      if (done) notify(done);
    } catch (err) {
      fail(err);
    }
  };
}

// go shows the page of hash (rendering again when it is the current one).
export function go(hash) {
  if (location.hash === hash) hooks.render();
  else location.hash = hash;
}

// confirmButton asks for a second press instead of a modal dialog, which
// keyboard users and tests handle like any button.
export function confirmButton(id, label, question, fn, done) {
  const btn = h('button', { type: 'button', id, 'data-testid': id, class: 'danger' }, label);
  let armed = false;
  btn.addEventListener('click', async (ev) => {
    if (!armed) {
      armed = true;
      btn.textContent = question;
      btn.setAttribute('aria-pressed', 'true');
      return;
    }
    armed = false;
    btn.textContent = label;
    btn.removeAttribute('aria-pressed');
    await act(fn, done)(ev);
  });
  return btn;
}

// searchTerm is the ?search= of the current fragment ("" without one).
export function searchTerm() {
  return new URLSearchParams(location.hash.split('?')[1] || '').get('search') || '';
}

// searchForm is the search box of a list page: kind names its ids
// (`${kind}-search`), hash is the list's fragment; submitting shows the
// list for the term (a bookmarkable fragment).
export function searchForm(kind, label, hash) {
  const form = h('form', { role: 'search', id: `${kind}-search-form`, class: 'inline' },
    field(`${kind}-search`, label, { type: 'search', value: searchTerm() }),
    h('button', { type: 'submit', id: `${kind}-search-submit`, 'data-testid': `${kind}-search-submit` }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const s = value(form, `${kind}-search`).trim();
    go(`${hash}${s ? `?search=${encodeURIComponent(s)}` : ''}`);
  });
  return form;
}
