// Small DOM helpers shared by the pages: element building (text is always set as text, never as
// HTML, so nothing from the API can inject markup), form fields with their error messages,
// problem details, pagination, bar charts drawn as SVG, and a status region for announcements.

import { t, lang, countryName, fmtNumber } from './i18n.js';

/** Builds an element: h('a', {href: '#/'}, 'text', child, ...). `on*` props add listeners. */
export function h(tag, props = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && !tag.startsWith('svg:') && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// A number among the children is written the interface language's way (12,345 / 12 345).
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(fmtNumber(c)));
  }
}

let ids = 0;
export const uid = (prefix = 'f') => `${prefix}-${++ids}`;

/** Appends children to `el`, leaving out null, undefined and false (the DOM's own append would
 * write them as text). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Announces a message to screen readers and shows it briefly. */
/** Takes a notice away before its time: it spoke to the user who has just signed out. */
export function clearNotice() {
  const box = document.getElementById('status');
  clearTimeout(notify.timer);
  box.textContent = '';
  box.className = 'toast';
}

/**
 * A message belongs to the page it was shown on: a new page takes away one shown more than a
 * second before (one raised by the action that opened the page, "Activity saved", stays).
 */
export function forgetStaleNotice() {
  if (Date.now() - (notify.at || 0) > 1000) clearNotice();
}

export function notify(message, kind = 'ok') {
  const box = document.getElementById('status');
  notify.at = Date.now();
  box.className = `toast ${kind}`;
  box.textContent = message;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { box.textContent = ''; box.className = 'toast'; }, 6000);
}

/**
 * A labelled form control. `kind`: text, email, password, date, number, textarea, select (with
 * `options: [[value, label]]`), checkbox, multiselect. Returns the wrapper; `.control` is the input.
 */
export function field(name, label, { kind = 'text', value = '', options = [], required = false, hint, attrs = {} } = {}) {
  const id = uid(name);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  let control;
  if (kind === 'textarea') {
    control = h('textarea', { id, name, rows: 4, ...attrs }, value);
  } else if (kind === 'select' || kind === 'multiselect') {
    control = h('select', { id, name, multiple: kind === 'multiselect', ...attrs },
      options.map(([v, l]) => {
        const selected = Array.isArray(value) ? value.includes(v) : String(value) === String(v);
        return h('option', { value: v, selected }, l);
      }));
    if (kind === 'multiselect') control.size = Math.min(8, Math.max(3, options.length));
  } else if (kind === 'checkbox') {
    control = h('input', { id, name, type: 'checkbox', checked: Boolean(value), ...attrs });
  } else {
    control = h('input', { id, name, type: kind, value: value ?? '', ...attrs });
  }
  if (required) control.required = true;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const labelEl = h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  const wrap = kind === 'checkbox'
    ? h('div', { class: 'field check' }, control, labelEl, error)
    : h('div', { class: 'field' }, labelEl, hint ? h('p', { id: hintId, class: 'hint' }, hint) : null, control, error);
  wrap.control = control;
  wrap.dataset.name = name;
  return wrap;
}

/** The values of a multi-select. */
export const selected = (select) => [...select.selectedOptions].map((o) => o.value);

/** Splits a "a; b; c" text into a list. */
export const splitList = (s) => s.split(/[;\n]/).map((x) => x.trim()).filter(Boolean);

/** Country options for a select, in the interface language. */
export function countryOptions(codes) {
  return codes.map((c) => [c, `${countryName(c)} (${c})`])
    .sort((a, b) => a[1].localeCompare(b[1], lang()));
}

/**
 * Shows an API error on a form: a summary (focused, so keyboard and screen-reader users land on it)
 * and each field's message next to its control.
 */
export function showProblem(form, err, summary) {
  clearProblem(form);
  const box = summary || form.querySelector('.problem');
  const items = [];
  for (const e of err.errors || []) {
    const wrap = form.querySelector(`.field[data-name="${CSS.escape(e.field || '')}"]`);
    const where = e.row ? `${t('row')} ${e.row}: ` : '';
    const message = ruleText(form, e);
    if (wrap && !e.row) {
      const p = wrap.querySelector('.field-error');
      p.textContent = message;
      p.hidden = false;
      wrap.control.setAttribute('aria-invalid', 'true');
    }
    const text = `${where}${e.field ? `${fieldLabel(form, e.field)}: ` : ''}${message}`;
    // Each item of the summary leads to its field (the router owns the hash: focus, not a jump).
    const target = wrap && !e.row ? (wrap.control.matches('fieldset') ? wrap.querySelector('input') : wrap.control) : null;
    items.push(h('li', {}, target
      ? h('a', { href: `#${target.id}`, onclick: (ev) => { ev.preventDefault(); target.focus(); } }, text)
      : text));
  }
  if (box) {
    fill(box, h('p', { class: 'problem-title' }, problemText(err)), items.length ? h('ul', {}, items) : null);
    box.hidden = false;
    box.focus();
  }
}

/**
 * A field's complaint in the interface's language, from its rule's code and parameters (`before`
 * names the other field by its label). An empty wording means the English message says more (a
 * weak password: zxcvbn's own advice); a rule without a code of its own is "not valid" outside
 * English.
 */
export function ruleText(form, e) {
  // A complaint the page raised itself (no code) is already worded in the interface's language.
  if (!e.code) return e.message;
  const vars = { ...(e.params || {}) };
  if (vars.other) vars.other = fieldLabel(form, vars.other);
  const worded = e.code !== 'invalid' ? t(`rule_${e.code}`, vars, '') : '';
  if (worded) return worded;
  return lang() === 'en' ? e.message : t('rule_invalid');
}

function fieldLabel(form, name) {
  const wrap = form && form.querySelector(`.field[data-name="${CSS.escape(name)}"]`);
  const label = wrap && (wrap.querySelector(':scope > legend') || wrap.querySelector('label'));
  return label ? label.firstChild.textContent : name;
}

export function clearProblem(form) {
  for (const p of form.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const box = form.querySelector('.problem');
  if (box) { box.hidden = true; box.replaceChildren(); }
}

/** A sentence for an API error, in the interface language where the code is known. */
export function problemText(err) {
  const known = t(`problem.${err.code}`, {}, null);
  // With per-field errors, the list says it all; the detail would repeat it.
  if (known && err.errors && err.errors.length) return known;
  if (err.code === 'validation_failed' || err.code === 'conflict' || err.code === 'duplicate_activity') {
    return err.detail ? `${known || ''} ${err.detail}`.trim() : known || err.message;
  }
  return known || err.detail || err.message;
}

/** An error box for a whole page or section. */
export function problemBox(err) {
  return h('div', { class: 'problem', role: 'alert' }, h('p', { class: 'problem-title' }, problemText(err)));
}

/** The empty problem box a form starts with (focusable so errors can take focus). */
export const problemSlot = () => h('div', { class: 'problem', role: 'alert', tabindex: '-1', hidden: true });

/** Previous/next links for a page of results: `go(page)` loads another page. */
export function pager(page, go) {
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  if (pages === 1 && page.page === 1) return null;
  return h('nav', { class: 'pager', 'aria-label': t('pagination') },
    h('button', { type: 'button', disabled: page.page <= 1, onclick: () => go(page.page - 1) }, t('previous')),
    h('span', {}, t('page_of', { page: page.page, pages, total: page.total })),
    h('button', { type: 'button', disabled: page.page >= pages, onclick: () => go(page.page + 1) }, t('next')));
}

/** A table: `columns` are [header, cell(row)] pairs. */
export function table(caption, columns, rows, { empty } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty || t('nothing_found'));
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', { scope: 'col' }, head)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(r))))))));
}

/**
 * A horizontal bar chart as inline SVG, hidden from screen readers, followed by the same numbers
 * as a table (visually hidden unless asked for) that they read instead.
 */
export function barChart(title, counts, label = (k) => k) {
  const top = counts.slice(0, 15);
  const max = Math.max(1, ...top.map((c) => c.count));
  // Drawn at most at its natural size (CSS caps the width), so text never grows past 13px.
  const row = 26;
  const width = 420;
  const labelW = 140;
  const svg = h('svg:svg', {
    viewBox: `0 0 ${width} ${top.length * row + 4}`, class: 'chart', 'aria-hidden': 'true', focusable: 'false',
  });
  top.forEach((c, i) => {
    const y = i * row + 2;
    const w = Math.max(2, ((width - labelW - 50) * c.count) / max);
    const name = label(c.key);
    svg.append(
      h('svg:text', { x: labelW - 8, y: y + 17, 'text-anchor': 'end', class: 'chart-label' }, name.length > 20 ? `${name.slice(0, 19)}…` : name),
      h('svg:rect', { x: labelW, y: y + 4, width: w, height: row - 8, class: 'chart-bar', rx: 2 }),
      h('svg:text', { x: labelW + w + 6, y: y + 17, class: 'chart-value' }, fmtNumber(c.count)));
  });
  const id = uid('chart');
  return h('figure', { class: 'chart-figure', 'aria-labelledby': id },
    h('figcaption', { id }, title),
    top.length ? svg : h('p', { class: 'empty' }, t('nothing_found')),
    h('details', { class: 'chart-data' },
      h('summary', {}, t('chart_as_table')),
      table(title, [[t('name'), (c) => label(c.key)], [t('count'), (c) => c.count]], counts)));
}

/** Asks a yes/no question in a modal dialog; answers a promise of true/false. */
export function confirmDialog(question, yes) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' },
      h('p', { id: 'confirm-q' }, question),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => dialog.close('yes') }, yes),
        h('button', { type: 'button', onclick: () => dialog.close('no') }, t('cancel'))));
    dialog.addEventListener('close', () => { dialog.remove(); resolve(dialog.returnValue === 'yes'); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** The locale dates are written in: day, month, year and a 24-hour clock, as the UN writes them, in
 * English too (the browser's English is American: "Mar 1, 2026, 6:16 AM"). */
const dateLocale = () => (lang() === 'en' ? 'en-GB' : lang());
export const fmtDate = (d) => (d ? new Date(`${d.slice(0, 10)}T00:00:00Z`).toLocaleDateString(dateLocale(), { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }) : '—');
export const fmtTime = (ts) => (ts ? new Date(ts).toLocaleString(dateLocale(), { dateStyle: 'medium', timeStyle: 'short' }) : '—');
export const fmtPercent = (x) => new Intl.NumberFormat(lang(), { style: 'percent' }).format(x);
export const fmtCountries = (codes) => codes.map((c) => countryName(c)).join(', ');

/** A pair's score in words: the probability that the two activities are the same work. */
export function chance(score) {
  const band = score >= 0.9 ? 'very_likely' : score >= 0.5 ? 'likely' : score >= 0.1 ? 'unlikely' : 'very_unlikely';
  return t(`chance.${band}`, { p: fmtPercent(score) });
}

/** A coloured label for a match level, with its word (colour is never the only cue). */
export const levelBadge = (level) => h('span', { class: `badge level-${level}` }, t(`level.${level}`));

/**
 * Keeps what the user typed into the forms under `root` (text, choices, chips; by form and field
 * name) and answers a function that puts it back into the same page drawn again: switching the
 * language redraws the page and must not empty a half-filled form.
 */
export function keepTyped(root) {
  const isChoice = (el) => el.type === 'checkbox' || el.type === 'radio';
  const kept = [...root.querySelectorAll('form')].map((form) => ({
    values: [...form.elements].filter((el) => el.name && !['file', 'submit', 'button'].includes(el.type))
      .map((el) => [el.name, isChoice(el) ? el.value : null, isChoice(el) ? el.checked : el.value]),
    chips: [...form.querySelectorAll('.field[data-name]')].filter((f) => f.values && f.setValues).map((f) => [f.dataset.name, f.values()]),
  }));
  return (again) => {
    const forms = [...again.querySelectorAll('form')];
    if (forms.length !== kept.length) return; // another page now
    forms.forEach((form, i) => {
      for (const [name, value, state] of kept[i].values) {
        for (const el of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
          if (value === null && !isChoice(el)) el.value = state;
          else if (isChoice(el) && el.value === value) el.checked = state;
        }
      }
      for (const [name, values] of kept[i].chips) form.querySelector(`.field[data-name="${CSS.escape(name)}"]`)?.setValues?.(values);
      if (kept[i].values.length) form.dispatchEvent(new Event('input', { bubbles: true }));
    });
  };
}

/** Debounces a function: runs it `ms` after the last call. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** Navigates within the app; the same hash again redraws the page. */
export const go = (hash) => window.dispatchEvent(new CustomEvent('icat:go', { detail: hash }));

/**
 * A list picker for long vocabularies (countries): a text box with suggestions (a native datalist)
 * and the chosen values as removable chips. Enter, or picking a suggestion, adds the value.
 * `options`: [[value, label]]; `.values()` answers the chosen values.
 */
export function chipsField(name, label, options, values = [], { hint, required = false } = {}) {
  const chosen = [...values];
  const listId = uid(`${name}-list`);
  const wrap = field(name, label, { hint: hint || t('chips_hint'), required, attrs: { list: listId, autocomplete: 'off' } });
  const input = wrap.control;
  // The chips hold the values, not the text box: it is never itself required to be filled in.
  if (required) { input.required = false; input.setAttribute('aria-required', 'true'); }
  const chips = h('ul', { class: 'chips', 'aria-label': label });
  const labelOf = (v) => (options.find(([o]) => o === v) || [v, v])[1];
  const draw = () => fill(chips, chosen.map((v) => h('li', {},
    h('span', {}, labelOf(v)),
    h('button', {
      type: 'button', class: 'chip-remove', 'aria-label': t('remove_item', { item: labelOf(v) }),
      onclick: () => { chosen.splice(chosen.indexOf(v), 1); draw(); input.dispatchEvent(new Event('input', { bubbles: true })); input.focus(); },
    }, '×'))));
  const add = () => {
    const text = input.value.trim().toLowerCase();
    if (!text) return false;
    const hit = options.find(([v, l]) => v.toLowerCase() === text || l.toLowerCase() === text)
      || options.find(([, l]) => l.toLowerCase().startsWith(text));
    if (!hit) return false;
    if (!chosen.includes(hit[0])) chosen.push(hit[0]);
    input.value = '';
    draw();
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return true;
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); add(); }
    if (e.key === 'Backspace' && !input.value && chosen.length) { chosen.pop(); draw(); }
  });
  // Choosing from the datalist fires `input` with the full label.
  input.addEventListener('input', (e) => {
    if (e.isTrusted && options.some(([, l]) => l === input.value)) add();
  });
  wrap.append(h('datalist', { id: listId }, options.map(([v, l]) => h('option', { value: l }, v))), chips);
  wrap.values = () => [...chosen];
  wrap.setValues = (list) => { chosen.splice(0, chosen.length, ...list); draw(); };
  draw();
  return wrap;
}

/**
 * A group of checkboxes with a legend (marked when at least one must be chosen); its error is tied
 * to every box. `.values()` answers the checked values.
 */
export function checkGroup(name, legend, options, values = [], { required = false } = {}) {
  const errorId = uid(`${name}-error`);
  const boxes = options.map(([v, l]) => {
    const id = uid(name);
    return h('span', { class: 'check' },
      h('input', { type: 'checkbox', id, name, value: v, checked: values.includes(v), 'aria-describedby': errorId }),
      h('label', { for: id }, l));
  });
  const error = h('p', { id: errorId, class: 'field-error', hidden: true });
  const mark = required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
  const set = h('fieldset', { class: 'field group' }, h('legend', {}, legend, mark), boxes, error);
  set.dataset.name = name;
  set.control = set;
  set.values = () => [...set.querySelectorAll('input:checked')].map((i) => i.value);
  return set;
}
