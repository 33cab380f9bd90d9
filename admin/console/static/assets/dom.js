// Small DOM helpers: every text goes in as text (never as HTML), so data
// from the server cannot become markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = true;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// slug makes an id part from a label.
export const slug = (s) => String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

// field is a labelled input; opts: {type, value, checked, help, required,
// readonly, rows, options:[[value,label]]}.
export function field(id, label, opts = {}) {
  const common = { id, name: id, 'data-testid': id, required: opts.required, readonly: opts.readonly, 'aria-describedby': opts.help ? `${id}-help` : null };
  let input;
  if (opts.type === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox', checked: !!opts.checked });
    return h('div', { class: 'field check' }, input, h('label', { for: id }, label), help(id, opts));
  }
  if (opts.options) {
    input = h('select', common, opts.options.map(([v, l]) => h('option', { value: v, selected: String(opts.value) === String(v) }, l)));
  } else if (opts.rows) {
    input = h('textarea', { ...common, rows: opts.rows }, opts.value ?? '');
  } else {
    input = h('input', { ...common, type: opts.type || 'text', value: opts.value ?? '', min: opts.min, autocomplete: opts.autocomplete || 'off' });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, help(id, opts));
}

function help(id, opts) {
  return opts.help ? h('small', { id: `${id}-help` }, opts.help) : null;
}

// value reads a field of form by id: booleans for checkboxes, numbers for
// number inputs ('' stays undefined), strings otherwise.
export function value(form, id) {
  const el = form.querySelector(`#${CSS.escape(id)}`);
  if (el.type === 'checkbox') return el.checked;
  if (el.type === 'number') return el.value === '' ? undefined : Number(el.value);
  return el.value;
}

// lines splits a textarea's value into non-empty trimmed lines.
export const lines = (s) => s.split('\n').map((l) => l.trim()).filter(Boolean);

// table renders rows with columns [[header, row => cell]]; empty shows a
// sentence instead of an empty grid.
export function table(id, columns, rows, empty) {
  if (!rows.length) return h('p', { id, 'data-testid': id, class: 'empty' }, empty || 'Nothing here yet.');
  return h('div', { class: 'table-wrap' },
    h('table', { id, 'data-testid': id },
      h('thead', {}, h('tr', {}, columns.map(([hd]) => h('th', { scope: 'col' }, hd)))),
      // The first cell heads its row, so a screen reader names the row
      // when it reads a button of it ("reader, Delete").
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([, cell], i) => h(i ? 'td' : 'th', i ? {} : { scope: 'row' }, cell(r))))))));
}

export function button(id, label, onclick, cls) {
  return h('button', { type: 'button', id, 'data-testid': id, class: cls, onclick }, label);
}

export function link(href, label, id) {
  return h('a', { href, id, 'data-testid': id }, label);
}

// tabs renders links to a page's tabs, marking the current one.
export function tabs(items, current) {
  return h('nav', { class: 'tabs', 'aria-label': 'Tabs' },
    items.map(([key, label, href]) => h('a', { href, id: `tab-${key}`, 'data-testid': `tab-${key}`, 'aria-current': key === current ? 'page' : null }, label)));
}

export function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '';
}
