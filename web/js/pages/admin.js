// The secretariat's pages: participation, coverage and summaries (paragraphs 5, 8, 9 and 13), the
// member registry, user accounts and the audit trail.

import { get, post, patch, request, query, download } from '../api.js';
import { t, countryName } from '../i18n.js';
import {
  h, add, fill, field, problemSlot, problemBox, showProblem, clearProblem, notify, go, pager, table, barChart, fmtDate, fmtTime,
} from '../ui.js';
import { ctx, agencyOptions, agencyById, loadContext } from '../context.js';
import { filterForm } from './activities.js';
import { mapFigure } from './places.js';

const csvButton = (path, name) => h('button', {
  type: 'button', onclick: () => download(path, name).catch((e) => notify(e.message, 'error')),
}, t('export_csv'));

export async function reports(view, { params }) {
  const from = params.get('from') || '';
  const to = params.get('to') || '';
  const [participation, coverage, summary, places] = await Promise.all([
    get('/api/v1/reports/participation'),
    get('/api/v1/reports/focal-point-coverage'),
    get(`/api/v1/reports/summary${query({ from, to })}`),
    get('/api/v1/reports/countries'),
  ]);
  const rows = participation.items || participation;
  const outside = rows.filter((p) => !p.working_group);
  const active = (list) => list.filter((p) => p.activities_last_12_months > 0).length;
  const period = [field('from', t('running_from'), { kind: 'date', value: from }), field('to', t('running_to'), { kind: 'date', value: to })];
  add(view, 
    h('h1', {}, t('reports_title')),
    h('section', { 'aria-labelledby': 'part-h' },
      h('div', { class: 'page-head' }, h('h2', { id: 'part-h' }, t('participation_title')), csvButton('/api/v1/reports/participation?format=csv', 'icat-participation.csv')),
      h('p', { class: 'lead' }, t('participation_lead', {
        count: active(rows), active: active(rows), total: rows.length, outsideActive: active(outside), outside: outside.length,
      })),
      barChart(t('activities_12_months'), rows.map((p) => ({ key: p.acronym, count: p.activities_last_12_months }))
        .sort((a, b) => b.count - a.count)),
      table(t('participation_title'), [
        [t('acronym'), (p) => h('a', { href: `#/agencies/${encodeURIComponent(p.acronym)}` }, p.acronym)],
        [t('name'), (p) => p.name],
        [t('working_group'), (p) => (p.working_group ? t('yes') : t('no'))],
        [t('primary_focal_point'), (p) => (p.has_primary_focal_point ? t('yes') : h('strong', { class: 'warn' }, t('no')))],
        [t('activities_12_months'), (p) => p.activities_last_12_months],
        [t('last_activity'), (p) => fmtTime(p.last_activity_at)]], rows)),
    h('section', { 'aria-labelledby': 'map-h' },
      h('div', { class: 'page-head' }, h('h2', { id: 'map-h' }, t('place.map_title')), h('a', { href: '#/map', class: 'button' }, t('place.open_map'))),
      mapFigure(places)),
    h('section', { 'aria-labelledby': 'cov-h' },
      h('h2', { id: 'cov-h' }, t('coverage_title')),
      h('p', { class: 'lead' }, t('coverage_lead', { count: coverage.with_primary, with: coverage.with_primary, total: coverage.agencies_total })),
      table(t('without_primary'), [
        [t('acronym'), (a) => h('a', { href: `#/agencies/${encodeURIComponent(a.acronym)}` }, a.acronym)],
        [t('name'), (a) => a.name]], coverage.without_primary, { empty: t('all_have_primary') }),
      table(t('unconfirmed'), [
        [t('agency'), (fp) => fp.agency_acronym], [t('name'), (fp) => fp.name],
        [t('last_confirmed'), (fp) => fmtDate(fp.last_confirmed_at)]], coverage.unconfirmed, { empty: t('none_unconfirmed') })),
    h('section', { 'aria-labelledby': 'sum-h' },
      h('div', { class: 'page-head' }, h('h2', { id: 'sum-h' }, t('summary_title')), csvButton(`/api/v1/reports/summary${query({ from, to, format: 'csv' })}`, 'icat-summary.csv')),
      filterForm('#/reports', params, period),
      h('p', { class: 'lead' }, t('summary_total', { count: summary.total, total: summary.total })),
      h('div', { class: 'charts' },
        barChart(t('by_theme'), summary.by_theme, (k) => t(`theme.${k}`)),
        barChart(t('by_sdg'), summary.by_sdg_target, (k) => t(`sdg.${k}`)),
        barChart(t('by_country'), summary.by_country, (k) => countryName(k)),
        barChart(t('by_agency'), summary.by_agency))));
}

function agencyFields(a = {}) {
  return {
    acronym: field('acronym', t('acronym'), { required: true, value: a.acronym, attrs: { maxlength: 20 } }),
    name: field('name', t('name'), { required: true, value: a.name }),
    kind: field('kind', t('kind'), { kind: 'select', value: a.kind || 'un_entity', options: ctx.vocab.agency_kinds.map((k) => [k, t(`kind.${k}`)]) }),
    working_group: field('working_group', t('working_group'), { kind: 'checkbox', value: a.working_group }),
    website: field('website', t('website'), { kind: 'url', value: a.website || '' }),
    joined_on: field('joined_on', t('member_since'), { kind: 'date', value: a.joined_on || '' }),
  };
}

export async function adminAgencies(view, { params }) {
  const showAll = params.get('all') === 'true';
  const data = await get(`/api/v1/agencies${query({ per_page: 100, active: showAll ? '' : 'true' })}`);
  const f = agencyFields();
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-agency-h' },
    h('h2', { id: 'new-agency-h' }, t('add_member')), problemSlot(),
    h('div', { class: 'row' }, f.acronym, f.name), h('div', { class: 'row' }, f.kind, f.joined_on), f.website, f.working_group,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('add_member'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const body = {
      acronym: f.acronym.control.value.trim(), name: f.name.control.value.trim(), kind: f.kind.control.value,
      working_group: f.working_group.control.checked,
    };
    if (f.website.control.value.trim()) body.website = f.website.control.value.trim();
    if (f.joined_on.control.value) body.joined_on = f.joined_on.control.value;
    try {
      await post('/api/v1/agencies', body);
      await loadContext();
      notify(t('member_added', { acronym: body.acronym }));
      go('#/admin/agencies');
    } catch (err) { showProblem(form, err); }
  });
  add(view, 
    h('h1', {}, t('agencies_title')),
    h('p', {}, showAll ? h('a', { href: '#/admin/agencies' }, t('show_active_only')) : h('a', { href: '#/admin/agencies?all=true' }, t('show_former_too'))),
    table(t('agencies_title'), [
      [t('acronym'), (a) => h('a', { href: `#/agencies/${encodeURIComponent(a.acronym)}` }, a.acronym)],
      [t('name'), (a) => a.name],
      [t('kind'), (a) => t(`kind.${a.kind}`)],
      [t('working_group'), (a) => (a.working_group ? t('yes') : t('no'))],
      [t('active'), (a) => (a.active ? t('yes') : t('no'))],
      ['', (a) => h('a', { href: `#/admin/agencies/${a.id}`, class: 'button small' }, t('edit'), h('span', { class: 'visually-hidden' }, ` ${a.acronym}`))]],
    data.items),
    form);
}

export async function editAgency(view, { id }) {
  const r = await request(`/api/v1/agencies/${encodeURIComponent(id)}`);
  const a = r.data;
  const f = agencyFields(a);
  f.active = field('active', t('active_member'), { kind: 'checkbox', value: a.active });
  const form = h('form', { class: 'card', novalidate: true }, problemSlot(),
    h('div', { class: 'row' }, f.acronym, f.name), h('div', { class: 'row' }, f.kind, f.joined_on), f.website, f.working_group, f.active,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('save_changes')), h('a', { href: '#/admin/agencies', class: 'button' }, t('cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const body = {
      acronym: f.acronym.control.value.trim(), name: f.name.control.value.trim(), kind: f.kind.control.value,
      working_group: f.working_group.control.checked, active: f.active.control.checked,
      website: f.website.control.value.trim() || null, joined_on: f.joined_on.control.value || null,
    };
    try {
      await patch(`/api/v1/agencies/${a.id}`, body, r.etag);
      await loadContext();
      notify(t('saved'));
      go('#/admin/agencies');
    } catch (err) { showProblem(form, err); }
  });
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/admin/agencies' }, t('agencies_title'))), h('h1', {}, t('edit_member', { acronym: a.acronym })), form);
}

const roleOptions = () => ctx.vocab.roles.map((r) => [r, t(`role.${r}`)]);

export async function adminUsers(view, { params }) {
  const page = Number(params.get('page')) || 1;
  const data = await get(`/api/v1/users${query({ page, per_page: 50 })}`);
  const f = {
    email: field('email', t('email'), { kind: 'email', required: true, attrs: { autocomplete: 'off' } }),
    name: field('name', t('name'), { required: true }),
    role: field('role', t('role'), { kind: 'select', value: 'editor', options: roleOptions() }),
    agency_id: field('agency_id', t('agency'), { kind: 'select', options: [['', t('choose_agency')], ...agencyOptions('id')], hint: t('agency_needed') }),
    password: field('password', t('initial_password'), { kind: 'password', required: true, hint: t('password_rules'), attrs: { autocomplete: 'new-password' } }),
  };
  // Only the secretariat's accounts (admins) may have no agency: the form never offers the
  // combination the API refuses.
  const secretariat = () => f.role.control.value === 'admin';
  const noAgency = f.agency_id.control.querySelector('option[value=""]');
  const matchRole = () => {
    noAgency.textContent = secretariat() ? t('none_secretariat') : t('choose_agency');
    f.agency_id.control.required = !secretariat();
  };
  f.role.control.addEventListener('change', matchRole);
  matchRole();
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-user-h' },
    h('h2', { id: 'new-user-h' }, t('create_user')), problemSlot(),
    h('div', { class: 'row' }, f.email, f.name), h('div', { class: 'row' }, f.role, f.agency_id), f.password,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('create_user'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    if (!secretariat() && !f.agency_id.control.value) {
      showProblem(form, { code: 'validation_failed', errors: [{ field: 'agency_id', message: t('agency_needed') }] });
      return;
    }
    const body = {
      email: f.email.control.value.trim(), name: f.name.control.value.trim(), role: f.role.control.value,
      agency_id: f.agency_id.control.value || null, password: f.password.control.value,
    };
    try {
      await post('/api/v1/users', body);
      notify(t('user_created', { email: body.email }));
      go('#/admin/users');
    } catch (err) { showProblem(form, err); }
  });
  add(view, 
    h('h1', {}, t('users_title')),
    table(t('users_title'), [
      [t('name'), (u) => u.name],
      [t('email'), (u) => u.email],
      [t('role'), (u) => t(`role.${u.role}`)],
      [t('agency'), (u) => agencyById(u.agency_id)?.acronym || '—'],
      [t('active'), (u) => (u.active ? t('yes') : t('no'))],
      ['', (u) => h('a', { href: `#/admin/users/${u.id}`, class: 'button small' }, t('edit'), h('span', { class: 'visually-hidden' }, ` ${u.email}`))]],
    data.items),
    pager(data, (p) => go(`#/admin/users?page=${p}`)),
    form);
}

export async function editUser(view, { id }) {
  const r = await request(`/api/v1/users/${encodeURIComponent(id)}`);
  const u = r.data;
  const f = {
    name: field('name', t('name'), { required: true, value: u.name }),
    role: field('role', t('role'), { kind: 'select', value: u.role, options: roleOptions() }),
    agency_id: field('agency_id', t('agency'), { kind: 'select', value: u.agency_id || '', options: [['', t('none_secretariat')], ...agencyOptions('id')] }),
    active: field('active', t('account_active'), { kind: 'checkbox', value: u.active }),
  };
  const form = h('form', { class: 'card narrow', novalidate: true }, problemSlot(), f.name, f.role, f.agency_id, f.active,
    h('p', { class: 'hint' }, t('user_change_hint')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('save_changes')), h('a', { href: '#/admin/users', class: 'button' }, t('cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    try {
      await patch(`/api/v1/users/${u.id}`, {
        name: f.name.control.value.trim(), role: f.role.control.value, agency_id: f.agency_id.control.value || null, active: f.active.control.checked,
      }, r.etag);
      notify(t('saved'));
      go('#/admin/users');
    } catch (err) { showProblem(form, err); }
  });
  // A single-use link to hand over when the owner cannot reset by e-mail.
  const linkOut = h('div', { role: 'status' });
  const makeLink = h('button', {
    type: 'button',
    onclick: async () => {
      try {
        const link = (await post(`/api/v1/users/${u.id}/password-reset`)).data;
        const box = field('reset_url', t('reset.link_label'), { value: link.url, attrs: { readonly: true } });
        fill(linkOut, box, h('p', { class: 'hint' }, t('reset.link_hint', { at: fmtTime(link.expires_at) })));
        box.control.select();
      } catch (err) { fill(linkOut, problemBox(err)); }
    },
  }, t('reset.make_link'));
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/admin/users' }, t('users_title'))), h('h1', {}, u.email), form,
    h('h2', {}, t('reset.admin_title')), h('div', { class: 'card narrow' }, h('p', {}, t('reset.admin_lead')), makeLink, linkOut));
}

export async function audit(view, { params }) {
  const filters = Object.fromEntries(['actor', 'entity', 'action', 'from', 'to'].map((k) => [k, params.get(k) || '']));
  const page = Number(params.get('page')) || 1;
  const data = await get(`/api/v1/audit${query({ ...filters, page, per_page: 50 })}`);
  const fields = [
    field('actor', t('actor'), { value: filters.actor, hint: t('actor_hint') }),
    field('entity', t('entity'), { value: filters.entity }),
    field('action', t('action'), { value: filters.action }),
    field('from', t('from'), { kind: 'date', value: filters.from }),
    field('to', t('to'), { kind: 'date', value: filters.to }),
  ];
  add(view, 
    h('h1', {}, t('audit_title')),
    h('p', { class: 'lead' }, t('audit_lead')),
    filterForm('#/admin/audit', params, fields),
    h('p', { class: 'count', role: 'status' }, t('results', { count: data.total })),
    table(t('audit_title'), [
      [t('when'), (e) => fmtTime(e.at)],
      [t('actor'), (e) => e.actor_email || '—'],
      [t('action'), (e) => e.action],
      [t('entity'), (e) => `${e.entity}${e.entity_id ? ` ${e.entity_id.slice(0, 8)}` : ''}`],
      [t('outcome'), (e) => h('span', { class: `badge outcome-${e.outcome}` }, t(`outcome.${e.outcome}`, {}, e.outcome))],
      [t('changes'), (e) => (e.changes ? h('details', {}, h('summary', {}, t('show')), h('pre', {}, JSON.stringify(e.changes, null, 1))) : '')]],
    data.items),
    pager(data, (p) => go(`#/admin/audit${query({ ...filters, page: p })}`)));
}
