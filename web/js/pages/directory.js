// The focal-point directory (paragraph 9): search as you type, filters, vCards; an agency's page
// with its current and past focal points, and designating, confirming and ending designations.

import { get, post, query, download } from '../api.js';
import { t, countryName } from '../i18n.js';
import {
  h, add, fill, field, chipsField, checkGroup, problemSlot, showProblem, clearProblem, notify, go, pager,
  countryOptions, splitList, fmtDate, debounce, confirmDialog, problemBox,
} from '../ui.js';
import { ctx, canWrite, agencyOptions, loadFocalPoints } from '../context.js';
import { activityTable } from './activities.js';

const themeOptions = () => ctx.vocab.themes.map((x) => [x, t(`theme.${x}`)]);

function fpCard(fp, { actions } = {}) {
  return h('article', { class: `fp card${fp.current ? '' : ' past'}`, 'aria-label': fp.name },
    h('h3', {}, fp.name, ' ', h('span', { class: `badge role-${fp.role}` }, t(`fp_role.${fp.role}`))),
    fp.title ? h('p', { class: 'meta' }, fp.title) : null,
    h('p', {}, h('a', { href: `#/agencies/${encodeURIComponent(fp.agency_acronym)}` }, fp.agency_acronym), ' · ',
      h('a', { href: `mailto:${fp.email}` }, fp.email), fp.phone ? [' · ', h('a', { href: `tel:${fp.phone.replace(/\s/g, '')}` }, fp.phone)] : null),
    fp.languages.length ? h('p', { class: 'meta' }, `${t('languages')}: ${fp.languages.join(', ')}`) : null,
    fp.countries.length ? h('p', { class: 'meta' }, `${t('countries')}: ${fp.countries.map(countryName).join(', ')}`) : null,
    fp.themes.length ? h('p', { class: 'meta' }, `${t('themes')}: ${fp.themes.map((x) => t(`theme.${x}`)).join(', ')}`) : null,
    h('p', { class: 'meta' }, fp.current
      ? t('fp_since', { from: fmtDate(fp.valid_from), confirmed: fmtDate(fp.last_confirmed_at) })
      : t('fp_between', { from: fmtDate(fp.valid_from), until: fmtDate(fp.valid_until) })),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'link',
        onclick: () => download(`/api/v1/focal-points/${fp.id}/vcard`, `${fp.name}.vcf`).catch((e) => notify(e.message, 'error')),
      }, t('vcard_download'), h('span', { class: 'visually-hidden' }, ` (${fp.name})`)),
      actions));
}

export async function directory(view, { params }) {
  const state = {
    q: params.get('q') || '', agency: params.get('agency') || '', role: params.get('role') || '',
    country: params.get('country') || '', theme: params.get('theme') || '', include_history: params.get('include_history') === 'true',
  };
  let page = Number(params.get('page')) || 1;
  const q = field('q', t('search_people'), { kind: 'search', value: state.q, hint: t('search_people_hint'), attrs: { autocomplete: 'off' } });
  const fields = [
    field('agency', t('agency'), { kind: 'select', value: state.agency, options: [['', t('any')], ...agencyOptions('acronym')] }),
    field('role', t('fp_role_label'), { kind: 'select', value: state.role, options: [['', t('any')], ['primary', t('fp_role.primary')], ['alternate', t('fp_role.alternate')]] }),
    field('country', t('country'), { kind: 'select', value: state.country, options: [['', t('any')], ...countryOptions(ctx.vocab.countries)] }),
    field('theme', t('theme'), { kind: 'select', value: state.theme, options: [['', t('any')], ...themeOptions()] }),
    field('include_history', t('include_history'), { kind: 'checkbox', value: state.include_history }),
  ];
  const count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { class: 'fp-results' });
  const form = h('form', { class: 'filters', role: 'search', novalidate: true }, q, fields);
  let asked = 0;
  const search = async () => {
    const mine = ++asked;
    const values = { q: q.control.value.trim() };
    for (const f of fields) values[f.dataset.name] = f.control.type === 'checkbox' ? f.control.checked : f.control.value;
    // Keep the address in step without redrawing the page (so focus stays in the search box).
    history.replaceState(null, '', `#/directory${query({ ...values, page: page > 1 ? page : '' })}`);
    try {
      const data = await get(`/api/v1/focal-points${query({ ...values, page, per_page: 24 })}`);
      if (mine !== asked) return;
      count.textContent = t('results', { count: data.total });
      fill(results, data.items.length ? h('div', { class: 'grid' }, data.items.map((fp) => fpCard(fp))) : h('p', { class: 'empty' }, t('nothing_found')),
        data.total > data.per_page ? pager(data, (p) => { page = p; search(); }) : null);
    } catch (err) {
      if (mine !== asked) return;
      count.textContent = '';
      fill(results, problemBox(err));
    }
  };
  const soon = debounce(() => { page = 1; search(); }, 250);
  q.control.addEventListener('input', soon);
  // The search box searches as one types; its own `change` (fired on blur) would only redraw the
  // results under the pointer of someone clicking one of them.
  form.addEventListener('change', (e) => { if (e.target !== q.control) { page = 1; search(); } });
  form.addEventListener('submit', (e) => { e.preventDefault(); page = 1; search(); });
  add(view, 
    h('div', { class: 'page-head' },
      h('h1', {}, t('directory_title')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => download('/api/v1/focal-points/export.vcf', 'icat-focal-points.vcf').catch((e) => notify(e.message, 'error')) }, t('export_vcards')),
        h('button', { type: 'button', onclick: () => download('/api/v1/focal-points/export.csv', 'icat-focal-points.csv').catch((e) => notify(e.message, 'error')) }, t('export_csv')))),
    h('p', { class: 'lead' }, t('directory_lead')),
    form, count, results);
  await search();
}

function designationForm(agency, onDone) {
  const f = {
    role: field('role', t('fp_role_label'), { kind: 'select', value: 'primary', options: [['primary', t('fp_role.primary')], ['alternate', t('fp_role.alternate')]] }),
    name: field('name', t('name'), { required: true, attrs: { autocomplete: 'off' } }),
    title: field('title', t('job_title')),
    email: field('email', t('email'), { kind: 'email', required: true }),
    phone: field('phone', t('phone'), { kind: 'tel' }),
    languages: field('languages', t('languages'), { hint: t('languages_hint') }),
    countries: chipsField('countries', t('countries_covered'), countryOptions(ctx.vocab.countries)),
    themes: checkGroup('themes', t('themes'), themeOptions()),
    valid_from: field('valid_from', t('valid_from'), { kind: 'date', value: new Date().toISOString().slice(0, 10) }),
  };
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'designate-h' },
    h('h2', { id: 'designate-h' }, t('designate_focal_point')),
    h('p', { class: 'hint' }, t('designate_hint')),
    problemSlot(), f.role, f.name, f.title, h('div', { class: 'row' }, f.email, f.phone), f.languages, f.countries, f.themes, f.valid_from,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('designate'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    const body = {
      role: f.role.control.value,
      name: f.name.control.value.trim(),
      email: f.email.control.value.trim(),
      languages: splitList(f.languages.control.value.replace(/,/g, ';')),
      countries: f.countries.values(),
      themes: f.themes.values(),
      valid_from: f.valid_from.control.value || undefined,
    };
    if (f.title.control.value.trim()) body.title = f.title.control.value.trim();
    if (f.phone.control.value.trim()) body.phone = f.phone.control.value.trim();
    try {
      await post(`/api/v1/agencies/${agency.id}/focal-points`, body);
      notify(t('fp_designated', { name: body.name }));
      onDone();
    } catch (err) { showProblem(form, err); }
  });
  return form;
}

export async function agencyPage(view, { agency: key }) {
  const agency = await get(`/api/v1/agencies/${encodeURIComponent(key)}`);
  const [current, everyone, activities] = await Promise.all([
    get(`/api/v1/focal-points${query({ agency: agency.id, per_page: 100 })}`),
    get(`/api/v1/focal-points${query({ agency: agency.id, include_history: true, per_page: 100 })}`),
    get(`/api/v1/activities${query({ agency: agency.acronym, per_page: 10 })}`),
  ]);
  const writer = canWrite(agency.id);
  const refresh = async () => { await loadFocalPoints(); go(`#/agencies/${encodeURIComponent(agency.acronym)}`); };
  const act = (fp, action, label, ask) => h('button', {
    type: 'button', class: action === 'end' ? 'danger' : '',
    onclick: async () => {
      if (ask && !(await confirmDialog(ask, label))) return;
      try {
        await post(`/api/v1/focal-points/${fp.id}/${action}`);
        notify(action === 'confirm' ? t('fp_confirmed', { name: fp.name }) : t('fp_ended', { name: fp.name }));
        await refresh();
      } catch (err) { notify(err.message, 'error'); }
    },
  }, label, h('span', { class: 'visually-hidden' }, ` (${fp.name})`));
  const past = everyone.items.filter((fp) => !fp.current);
  add(view, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/directory' }, t('directory_title'))),
    h('h1', {}, `${agency.acronym} — ${agency.name}`),
    h('dl', { class: 'facts' },
      h('dt', {}, t('kind')), h('dd', {}, t(`kind.${agency.kind}`)),
      h('dt', {}, t('working_group')), h('dd', {}, agency.working_group ? t('yes') : t('no')),
      agency.website ? [h('dt', {}, t('website')), h('dd', {}, h('a', { href: agency.website, rel: 'noopener noreferrer' }, agency.website))] : null,
      h('dt', {}, t('member_since')), h('dd', {}, fmtDate(agency.joined_on)),
      agency.active ? null : [h('dt', {}, t('active')), h('dd', {}, t('no'))]),
    h('section', { 'aria-labelledby': 'cur-h' },
      h('h2', { id: 'cur-h' }, t('current_focal_points')),
      current.items.length ? h('div', { class: 'grid' }, current.items.map((fp) => fpCard(fp, {
        actions: writer ? [act(fp, 'confirm', t('confirm_details')), act(fp, 'end', t('end_designation'), t('end_question', { name: fp.name }))] : null,
      }))) : h('p', { class: 'warn' }, t('fp_missing'))),
    writer ? designationForm(agency, refresh) : null,
    h('section', { 'aria-labelledby': 'past-h' },
      h('h2', { id: 'past-h' }, t('past_focal_points')),
      past.length ? h('div', { class: 'grid' }, past.map((fp) => fpCard(fp))) : h('p', { class: 'empty' }, t('no_past_focal_points'))),
    h('section', { 'aria-labelledby': 'aa-h' },
      h('h2', { id: 'aa-h' }, t('recent_activities')),
      activityTable(activities.items, t('recent_activities'), t('no_activities_yet')),
      activities.total > 10 ? h('p', {}, h('a', { href: `#/activities?agency=${encodeURIComponent(agency.acronym)}` }, t('all_activities', { count: activities.total }))) : null));
}
