// The activity log: list with filters and search, record and edit with the live duplicate check,
// an activity's page with its matches, archive, and CSV import (dry run first) and export.

import { get, post, patch, del, request, query, download, session } from '../api.js';
import { t, countryName, languageName, fmtList } from '../i18n.js';
import {
  h, add, fill, field, chipsField, checkGroup, problemSlot, showProblem, clearProblem, problemBox, notify, go,
  pager, table, countryOptions, splitList, fmtDate, fmtCountries, fmtPercent, levelBadge, chance, debounce, confirmDialog, ruleText,
} from '../ui.js';
import { ctx, canWrite, isAdmin, myAgency, agencyOptions, agencyById, primaryOf } from '../context.js';

const FILTERS = ['q', 'agency', 'country', 'theme', 'sdg', 'status', 'from', 'to'];

const themeOptions = () => ctx.vocab.themes.map((x) => [x, t(`theme.${x}`)]);
const sdgOptions = () => ctx.vocab.sdg_targets.map((x) => [x, t(`sdg.${x}`)]);
const statusOptions = () => ctx.vocab.activity_statuses.map((x) => [x, t(`status.${x}`)]);
const anyOption = (options) => [['', t('any')], ...options];

/** The filter form of a list page; submitting it puts the filters in the address (so Back works). */
export function filterForm(base, params, fields) {
  const form = h('form', { class: 'filters', role: 'search' }, fields,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('apply_filters')),
      h('a', { href: base, class: 'button' }, t('clear_filters'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = {};
    for (const f of fields) {
      const c = f.control;
      values[f.dataset.name] = c.type === 'checkbox' ? (c.checked ? 'true' : '') : c.value.trim();
    }
    go(`${base}${query(values)}`);
  });
  return form;
}

export async function activityList(view, { params }) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const page = Number(params.get('page')) || 1;
  // "Next" follows the list's cursor (as fast deep in the list as at its start, and no activity
  // shown twice while others are recorded); the page number stays in the address for the pager.
  const after = params.get('after') || '';
  const data = await get(`/api/v1/activities${query({ ...filters, ...(after ? { after } : { page }), per_page: 25 })}`);
  if (after) data.page = page;
  const fields = [
    field('q', t('search'), { kind: 'search', value: filters.q, hint: t('search_activities_hint') }),
    field('agency', t('agency'), { kind: 'select', value: filters.agency, options: anyOption(agencyOptions('acronym')) }),
    field('country', t('country'), { kind: 'select', value: filters.country, options: anyOption(countryOptions(ctx.vocab.countries)) }),
    field('theme', t('theme'), { kind: 'select', value: filters.theme, options: anyOption(themeOptions()) }),
    field('sdg', t('sdg_target'), { kind: 'select', value: filters.sdg, options: anyOption(sdgOptions()) }),
    field('status', t('status'), { kind: 'select', value: filters.status, options: anyOption(statusOptions()) }),
    field('from', t('running_from'), { kind: 'date', value: filters.from }),
    field('to', t('running_to'), { kind: 'date', value: filters.to }),
  ];
  const writer = session.user.role !== 'viewer';
  add(view, 
    h('div', { class: 'page-head' },
      h('h1', {}, t('activities_title')),
      h('div', { class: 'actions' },
        writer ? h('a', { href: '#/activities/new', class: 'button primary' }, t('record_activity')) : null,
        writer ? h('a', { href: '#/activities/import', class: 'button' }, t('import_csv')) : null,
        h('button', {
          type: 'button',
          onclick: () => download(`/api/v1/activities/export.csv${query(filters)}`, 'activities.csv').catch((e) => notify(e.message, 'error')),
        }, t('export_csv')))),
    filterForm('#/activities', params, fields),
    h('p', { class: 'count', role: 'status' }, data.total_estimated && data.total > 1000 ? t('results_about', { n: data.total }) : t('results', { count: data.total })),
    activityTable(data.items, t('activities_title')),
    pager(data, (p) => go(`#/activities${query({ ...filters, page: p, after: p === page + 1 ? data.next : '' })}`)));
}

export function activityTable(items, caption, empty) {
  return table(caption, [
    [t('title'), (a) => h('a', { href: `#/activities/${a.id}` }, a.title)],
    [t('agency'), (a) => a.agency_acronym],
    [t('countries'), (a) => fmtCountries(a.countries)],
    [t('period'), (a) => `${fmtDate(a.start_date)} – ${fmtDate(a.end_date)}`],
    [t('themes'), (a) => a.themes.map((x) => t(`theme.${x}`)).join(', ')],
    [t('status'), (a) => t(`status.${a.status}`)],
  ], items, { empty });
}

/** The matches of an activity (or of a draft), with reasons and the other agency's focal point. */
export function matchList(matches, { heading = 'h2' } = {}) {
  if (!matches.length) return h('p', { class: 'empty' }, t('no_matches'));
  return h('ol', { class: 'matches' }, matches.map((m) => {
    const fp = primaryOf(m.agency_id);
    return h('li', { class: `match level-${m.level}` },
      h(heading === 'h2' ? 'h3' : 'h4', {},
        levelBadge(m.level), ' ',
        h('a', { href: `#/activities/${m.activity_id}` }, m.title)),
      h('p', { class: 'meta' },
        `${m.agency_acronym} · ${fmtDate(m.start_date)} – ${fmtDate(m.end_date)} · ${chance(m.score)}`),
      reasonList(m.reasons),
      h('p', { class: 'contact' }, t('focal_point_of', { agency: m.agency_acronym }), ' ',
        fp ? [h('a', { href: `#/agencies/${encodeURIComponent(m.agency_acronym)}` }, fp.name), ' · ', h('a', { href: `mailto:${fp.email}` }, fp.email)]
          : h('span', { class: 'warn' }, t('no_focal_point'))));
  }));
}

export function reasonList(reasons) {
  return h('ul', { class: 'reasons', 'aria-label': t('reasons') }, reasons.map((r) => h('li', { class: r.weight < 0 ? 'against' : 'for' },
    h('strong', {}, t(`feature.${r.feature}`, {}, r.feature)), ` ${fmtPercent(r.similarity)} — ${reasonText(r)}`)));
}

/** How the items of a reason read: countries and themes by name, SDG targets by number. */
const itemName = { countries: countryName, themes: (x) => t(`theme.${x}`) };

/**
 * A reason in the interface's language, from its code and parameters (names, dates and numbers
 * written the language's way). A pair stored before reasons had codes keeps its English detail.
 */
export function reasonText(r) {
  const p = r.params || {};
  const across = p.a_language && p.b_language;
  const key = `reason.${r.code}${across ? '_across' : ''}`;
  if (!r.code || t(key) === key) return r.detail;
  const vars = { ...p };
  if (p.items) vars.items = fmtList(p.items.map(itemName[r.feature] || String));
  for (const d of ['a_start', 'a_end', 'b_start', 'b_end']) if (p[d]) vars[d] = fmtDate(p[d]);
  if (r.feature === 'phase') for (const side of ['a', 'b']) if (p[side]) vars[side] = fmtList(p[side]);
  if (across) Object.assign(vars, { a: languageName(p.a_language), b: languageName(p.b_language) });
  return t(key, vars);
}

/** The body the API takes, from the form's fields. */
function bodyOf(f) {
  const body = {
    title: f.title.control.value.trim(),
    description: f.description.control.value.trim(),
    countries: f.countries.values(),
    themes: f.themes.values(),
    sdg_targets: f.sdg_targets.values(),
    target_groups: splitList(f.target_groups.control.value),
    partners: splitList(f.partners.control.value),
    start_date: f.start_date.control.value,
    end_date: f.end_date.control.value,
    status: f.status.control.value,
  };
  const budget = f.budget_usd.control.value.trim();
  if (budget !== '') body.budget_usd = Number(budget);
  if (f.agency_id) body.agency_id = f.agency_id.control.value;
  return body;
}

export async function activityForm(view, { id }) {
  let activity = null;
  let etag = null;
  if (id) {
    const r = await request(`/api/v1/activities/${encodeURIComponent(id)}`);
    activity = r.data;
    etag = r.etag;
    if (!canWrite(activity.agency_id)) {
      add(view, h('h1', {}, t('forbidden_title')), h('p', {}, t('problem.forbidden')));
      return;
    }
  } else if (session.user.role === 'viewer') {
    add(view, h('h1', {}, t('forbidden_title')), h('p', {}, t('problem.forbidden')));
    return;
  }
  const a = activity || {};
  const f = {
    title: field('title', t('title'), { required: true, value: a.title, attrs: { minlength: 5, maxlength: 300 } }),
    description: field('description', t('description'), { kind: 'textarea', required: true, value: a.description }),
    countries: chipsField('countries', t('countries'), countryOptions(ctx.vocab.countries), a.countries || [], { required: true }),
    themes: checkGroup('themes', t('themes'), themeOptions(), a.themes || [], { required: true }),
    sdg_targets: checkGroup('sdg_targets', t('sdg_targets'), sdgOptions(), a.sdg_targets || []),
    target_groups: field('target_groups', t('target_groups'), { value: (a.target_groups || []).join('; '), hint: t('list_hint') }),
    partners: field('partners', t('partners'), { value: (a.partners || []).join('; '), hint: t('list_hint') }),
    start_date: field('start_date', t('start_date'), { kind: 'date', required: true, value: a.start_date }),
    end_date: field('end_date', t('end_date'), { kind: 'date', required: true, value: a.end_date }),
    status: field('status', t('status'), { kind: 'select', value: a.status || 'planned', options: statusOptions() }),
    budget_usd: field('budget_usd', t('budget_usd'), { kind: 'number', value: a.budget_usd ?? '', attrs: { min: 0, step: 1 } }),
  };
  if (!activity && isAdmin()) {
    f.agency_id = field('agency_id', t('agency'), { kind: 'select', required: true, options: [['', t('choose')], ...agencyOptions('id')] });
  }
  const mine = activity ? agencyById(activity.agency_id) : myAgency();
  const submit = h('button', { type: 'submit', class: 'primary' }, activity ? t('save_changes') : t('save_activity'));
  const form = h('form', { class: 'card activity-form', novalidate: true },
    problemSlot(),
    f.agency_id || (mine ? h('p', { class: 'meta' }, t('recording_for', { agency: `${mine.acronym} — ${mine.name}` })) : null),
    f.title, f.description, f.countries,
    h('div', { class: 'row' }, f.start_date, f.end_date),
    h('div', { class: 'row' }, f.themes, f.sdg_targets),
    f.target_groups, f.partners,
    h('div', { class: 'row' }, f.status, f.budget_usd),
    h('div', { class: 'actions' }, submit, h('a', { href: activity ? `#/activities/${activity.id}` : '#/activities', class: 'button' }, t('cancel'))));

  // The live check: as the user types, the activities of other agencies that this one would
  // duplicate or overlap, before anything is saved.
  const results = h('div', { class: 'live-results' });
  const live = h('aside', { class: 'card live-check', 'aria-labelledby': 'live-title' },
    h('h2', { id: 'live-title' }, t('live_check_title')),
    h('p', { class: 'hint' }, t('live_check_lead')),
    h('div', { role: 'status', 'aria-live': 'polite', class: 'live-status' }),
    results);
  const liveStatus = live.querySelector('.live-status');
  let checks = 0;
  let lastChecked = null;
  const runCheck = debounce(async () => {
    const body = bodyOf(f);
    if (body.title.length < 4 || !body.countries.length || !body.start_date || !body.end_date || (f.agency_id && !body.agency_id)) {
      liveStatus.textContent = t('live_check_needs');
      fill(results);
      lastChecked = null;
      return;
    }
    if (activity) body.agency_id = activity.agency_id;
    // `change` follows `input` on blur: the same draft is not checked twice.
    const key = JSON.stringify(body);
    if (key === lastChecked) return;
    lastChecked = key;
    const mineCheck = ++checks;
    liveStatus.textContent = t('checking');
    try {
      const r = await post('/api/v1/activities/check', body);
      if (mineCheck !== checks) return;
      let found = r.data.possible_duplicates;
      if (activity) found = found.filter((m) => m.activity_id !== activity.id);
      const strong = found.filter((m) => m.level !== 'overlap').length;
      liveStatus.textContent = found.length ? t('live_found', { count: found.length, strong }) : t('no_matches');
      fill(results, found.length ? matchList(found, { heading: 'h3' }) : null);
    } catch (err) {
      if (mineCheck !== checks) return;
      lastChecked = null;
      liveStatus.textContent = err.status === 422 ? t('live_check_invalid') : err.message;
      fill(results);
    }
  }, 400);
  form.addEventListener('input', runCheck);
  form.addEventListener('change', runCheck);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    submit.disabled = true;
    try {
      if (activity) {
        const body = bodyOf(f);
        delete body.agency_id;
        if (body.budget_usd === undefined) body.budget_usd = null;
        await patch(`/api/v1/activities/${activity.id}`, body, etag);
        notify(t('activity_saved'));
        go(`#/activities/${activity.id}`);
      } else {
        const r = await post('/api/v1/activities', bodyOf(f), { headers: { 'Idempotency-Key': idempotencyKey(form) } });
        const n = r.data.possible_duplicates.filter((m) => m.level !== 'overlap').length;
        notify(n ? t('activity_saved_with_matches', { count: n }) : t('activity_saved'));
        go(`#/activities/${r.data.activity.id}`);
      }
    } catch (err) {
      if (err.code === 'duplicate_activity' && err.problem.existing_id) {
        showProblem(form, err);
        form.querySelector('.problem').append(h('p', {}, h('a', { href: `#/activities/${err.problem.existing_id}` }, t('open_existing'))));
      } else {
        showProblem(form, err);
      }
    } finally {
      submit.disabled = false;
    }
  });
  add(view, 
    h('h1', {}, activity ? t('edit_activity') : t('record_activity')),
    h('div', { class: 'split' }, form, live));
  if (activity) runCheck();
}

/** One key per draft: a double click or a retried request records the activity once. */
function idempotencyKey(form) {
  if (!form.dataset.key) form.dataset.key = crypto.randomUUID();
  return form.dataset.key;
}

export async function activityDetail(view, { id }) {
  const [r, m] = await Promise.all([
    request(`/api/v1/activities/${encodeURIComponent(id)}`),
    get(`/api/v1/activities/${encodeURIComponent(id)}/matches`),
  ]);
  const a = r.data;
  const etag = r.etag;
  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== null && v !== '' && v !== undefined)
    .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const actions = canWrite(a.agency_id) ? h('div', { class: 'actions' },
    h('a', { href: `#/activities/${a.id}/edit`, class: 'button primary' }, t('edit')),
    h('button', {
      type: 'button', class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog(t('archive_question', { title: a.title }), t('archive')))) return;
        try {
          await del(`/api/v1/activities/${a.id}`, etag);
          notify(t('activity_archived'));
          go('#/activities');
        } catch (err) { notify(err.message, 'error'); }
      },
    }, t('archive'))) : null;
  add(view, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/activities' }, t('activities_title'))),
    h('div', { class: 'page-head' }, h('h1', {}, a.title), actions),
    h('p', { class: 'lead' }, a.description || ''),
    dl([
      [t('agency'), h('a', { href: `#/agencies/${encodeURIComponent(a.agency_acronym)}` }, a.agency_acronym)],
      [t('countries'), fmtCountries(a.countries)],
      [t('period'), `${fmtDate(a.start_date)} – ${fmtDate(a.end_date)}`],
      [t('status'), t(`status.${a.status}`)],
      [t('themes'), a.themes.map((x) => t(`theme.${x}`)).join(', ')],
      [t('sdg_targets'), a.sdg_targets.join(', ')],
      [t('target_groups'), a.target_groups.join(', ')],
      [t('partners'), a.partners.join(', ')],
      [t('budget_usd'), a.budget_usd != null ? Number(a.budget_usd).toLocaleString() : null],
      [t('updated'), fmtDate(a.updated_at)],
    ]),
    h('section', { 'aria-labelledby': 'matches-title' },
      h('h2', { id: 'matches-title' }, t('matches_title')),
      h('p', { class: 'hint' }, t('matches_lead')),
      matchList(m.possible_duplicates)));
}

export async function activityImport(view) {
  if (session.user.role === 'viewer') {
    add(view, h('h1', {}, t('forbidden_title')), h('p', {}, t('problem.forbidden')));
    return;
  }
  const file = field('file', t('csv_file'), { kind: 'file', attrs: { accept: '.csv,text/csv' }, hint: t('import_hint') });
  const text = field('csv', t('csv_text'), { kind: 'textarea', attrs: { rows: 8, spellcheck: 'false' } });
  const outcome = h('div', { class: 'import-outcome', role: 'status', 'aria-live': 'polite' });
  const preview = h('button', { type: 'submit', class: 'primary' }, t('preview'));
  const commit = h('button', { type: 'button', disabled: true }, t('import_now'));
  const form = h('form', { class: 'card', novalidate: true }, problemSlot(), file, text, h('div', { class: 'actions' }, preview, commit));
  file.control.addEventListener('change', async () => {
    const chosen = file.control.files[0];
    if (chosen) text.control.value = await chosen.text();
    commit.disabled = true;
  });
  text.control.addEventListener('input', () => { commit.disabled = true; });
  const send = async (dryRun) => {
    clearProblem(form);
    fill(outcome);
    try {
      const r = await request(`/api/v1/activities/import${dryRun ? '?dry_run=true' : ''}`, { method: 'POST', body: text.control.value, contentType: 'text/csv' });
      const d = r.data;
      fill(outcome, h('p', {}, dryRun
        ? t('import_preview', { created: d.created, skipped: d.duplicates_skipped })
        : t('import_done', { created: d.created, skipped: d.duplicates_skipped })));
      commit.disabled = !dryRun;
      if (!dryRun) notify(t('import_done', { created: d.created, skipped: d.duplicates_skipped }));
    } catch (err) {
      commit.disabled = true;
      showProblem(form, err);
      if (err.errors.length) {
        outcome.append(table(t('import_errors'), [
          [t('row'), (e) => e.row ?? '—'], [t('field'), (e) => e.field || '—'], [t('message'), (e) => ruleText(null, e)]], err.errors));
      }
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); send(true); });
  commit.addEventListener('click', () => send(false));
  add(view, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/activities' }, t('activities_title'))),
    h('h1', {}, t('import_title')),
    h('p', { class: 'lead' }, t('import_lead')),
    h('p', { class: 'hint' }, t('import_columns'), ' ', h('code', {}, 'title, description, countries, themes, sdg_targets, target_groups, partners, start_date, end_date, status, budget_usd', isAdmin() ? ', agency' : '')),
    form, outcome);
}
