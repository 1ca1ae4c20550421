// The duplicate report: clusters of activities of different agencies that look like the same work,
// each pair with its reasons, and the review that settles it.

import { get, post, query, download } from '../api.js';
import { t } from '../i18n.js';
import {
  h, add, field, pager, problemSlot, showProblem, clearProblem, notify, go, confirmDialog, countryOptions, fmtDate, fmtPercent, levelBadge, chance, fmtCountries, fmtTime, table,
} from '../ui.js';
import { ctx, isAdmin, agencyOptions, agencyByAcronym, canWrite } from '../context.js';
import { filterForm, reasonList } from './activities.js';

export async function duplicates(view, { params }) {
  const filters = {
    level: params.get('level') || '', status: params.get('status') || 'open', agency: params.get('agency') || '',
    country: params.get('country') || '', theme: params.get('theme') || '', min_score: params.get('min_score') || '',
  };
  const page = Number(params.get('page')) || 1;
  // One page of clusters at a time: at scale the whole report is megabytes (the CSV has it all).
  const report = await get(`/api/v1/reports/duplicates${query({ ...filters, page, per_page: 20 })}`);
  const fields = [
    field('status', t('review_status'), { kind: 'select', value: filters.status, options: ['open', 'reviewed', 'all'].map((s) => [s, t(`review_status.${s}`)]) }),
    field('level', t('level_label'), { kind: 'select', value: filters.level, options: [['', t('level.strong')], ['duplicate', t('level.duplicate')], ['possible', t('level.possible')], ['overlap', t('level.overlap')]] }),
    field('agency', t('agency'), { kind: 'select', value: filters.agency, options: [['', t('any')], ...agencyOptions('acronym')] }),
    field('country', t('country'), { kind: 'select', value: filters.country, options: [['', t('any')], ...countryOptions(ctx.vocab.countries)] }),
    field('theme', t('theme'), { kind: 'select', value: filters.theme, options: [['', t('any')], ...ctx.vocab.themes.map((x) => [x, t(`theme.${x}`)])] }),
    field('min_score', t('min_score'), { kind: 'number', value: filters.min_score, attrs: { min: 0, max: 1, step: 0.05 } }),
  ];
  add(view, 
    h('div', { class: 'page-head' },
      h('h1', {}, t('duplicates_title')),
      h('div', { class: 'actions' },
        isAdmin() ? h('a', { href: '#/duplicates/model', class: 'button' }, t('model_link')) : null,
        h('button', {
          type: 'button', onclick: () => download(`/api/v1/reports/duplicates${query({ ...filters, format: 'csv' })}`, 'icat-duplicates.csv').catch((e) => notify(e.message, 'error')),
        }, t('export_csv')))),
    h('p', { class: 'lead' }, t('duplicates_lead')),
    filterForm('#/duplicates', params, fields),
    h('p', { class: 'count', role: 'status' }, t('clusters_found', { count: report.total, at: fmtTime(report.generated_at) })),
    report.clusters.length ? h('div', { class: 'clusters' }, report.clusters.map((c) => cluster(c))) : h('p', { class: 'empty' }, t('no_open_cases')),
    pager(report, (p) => go(`#/duplicates${query({ ...filters, page: p })}`)));
}

function cluster(c) {
  const byId = new Map(c.activities.map((a) => [a.id, a]));
  const titleId = `cl-${c.id}`;
  return h('section', { class: 'cluster card', id: c.id, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, levelBadge(c.level || c.pairs[0].level), ' ', c.agencies.join(' · '), c.group ? ` — ${groupName(c.group)}` : ''),
    h('ul', { class: 'cluster-activities' }, c.activities.map((a) => h('li', {},
      h('strong', {}, a.agency_acronym), ' ', h('a', { href: `#/activities/${a.id}` }, a.title),
      h('span', { class: 'meta' }, ` · ${fmtCountries(a.countries)} · ${fmtDate(a.start_date)} – ${fmtDate(a.end_date)}`)))),
    c.pairs.map((p) => pair(p, byId)),
    c.pair_count > c.pairs.length ? h('p', { class: 'more' }, t('group_more', { shown: c.pairs.length, count: c.pair_count }), ' ',
      h('a', { href: `#/activities${query(groupFilter(c.group))}` }, groupLink(c.group))) : null);
}

/** An overlap group ("NG prevention") as the activity list's filters. */
function groupFilter(group) {
  const [country, theme] = (group || '').split(' ');
  return { country, theme };
}

function groupLink(group) {
  const { country, theme } = groupFilter(group);
  return t('group_activities', { country: fmtCountries([country]), theme: t(`theme.${theme}`, {}, theme) });
}

/** "NG prevention" as "Nigeria · Prevention", in the interface language. */
function groupName(group) {
  const { country, theme } = groupFilter(group);
  return [country ? fmtCountries([country]) : '', theme ? t(`theme.${theme}`, {}, theme) : ''].filter(Boolean).join(' · ');
}

/** Whether the user may review a pair: admins, and editors of one of the two agencies. */
function mayReview(a, b) {
  if (isAdmin()) return true;
  return [a, b].some((x) => x && canWrite(agencyByAcronym(x.agency_acronym)?.id));
}

function pair(p, byId) {
  const a = byId.get(p.a);
  const b = byId.get(p.b);
  const label = `${a ? a.agency_acronym : p.a} ↔ ${b ? b.agency_acronym : p.b}`;
  const box = h('div', { class: 'pair' },
    h('h3', {}, levelBadge(p.level), ` ${label} · ${chance(p.score)}`),
    h('p', { class: 'meta' }, a ? a.title : p.a, ' ↔ ', b ? b.title : p.b),
    reasonList(p.reasons));
  if (p.review) {
    box.append(h('p', { class: 'review-state' }, t('reviewed_as', {
      decision: t(`decision.${p.review.decision}`), at: fmtTime(p.review.reviewed_at),
    }), p.review.note ? ` — “${p.review.note}”` : ''));
  }
  if (mayReview(a, b)) box.append(reviewForm(p, label));
  return box;
}

function reviewForm(p, label) {
  // No verdict is chosen for the user: a review is final, and one stray click must not close a pair.
  const decision = field('decision', t('decision_label'), {
    kind: 'select', value: p.review?.decision || '', required: true,
    options: [['', t('decision_choose')], ...ctx.vocab.review_decisions.map((d) => [d, t(`decision.${d}`)])],
  });
  const note = field('note', t('note'), { attrs: { maxlength: 2000 } });
  const form = h('form', { class: 'review', novalidate: true, 'aria-label': t('review_pair', { pair: label }) },
    problemSlot(), h('div', { class: 'row' }, decision, note),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, p.review ? t('review_again') : t('review'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearProblem(form);
    if (!decision.control.value) {
      showProblem(form, { code: 'validation_failed', errors: [{ field: 'decision', message: t('decision_required') }] });
      return;
    }
    const body = { activity_ids: [p.a, p.b], decision: decision.control.value };
    if (note.control.value.trim()) body.note = note.control.value.trim();
    // "Not a duplicate" closes the case for good (it never shows as open again): ask first.
    if (body.decision === 'not_duplicate' && !(await confirmDialog(t('not_duplicate_confirm'), t('decision.not_duplicate')))) return;
    try {
      await post('/api/v1/reports/duplicates/reviews', body);
      notify(t('review_saved', { decision: t(`decision.${body.decision}`) }));
      go(location.hash);
    } catch (err) { showProblem(form, err); }
  });
  return form;
}


/** The match model the scores come from (secretariat): how and when it was estimated, what it
 * expects of its levels, what reviews measured, and every comparison's weights. */
export async function matchModel(view) {
  const m = await get('/api/v1/reports/duplicates/model');
  const pct = (x) => (x == null ? '—' : fmtPercent(x));
  const signed = (w) => `${w > 0 ? '+' : ''}${w.toFixed(1)}`;
  add(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/duplicates' }, t('duplicates_title'))),
    h('h1', {}, t('model_title')),
    h('p', { class: 'lead' }, m.source === 'estimated'
      ? t('model_estimated', {
        at: fmtTime(m.estimated_at), pairs: m.candidate_pairs, activities: m.activities,
        reviewed: m.labelled_pairs, share: pct(m.match_share),
      })
      : t('model_shipped')),
    h('p', {}, t('model_levels', { duplicate: pct(m.duplicate_at), possible: pct(m.possible_at) })),
    m.expected.length ? [h('h2', {}, t('model_expected')), table(t('model_expected'), [
      [t('level_label'), (x) => t(`level.${x.level === 'possible' ? 'strong' : x.level}`)],
      [t('precision'), (x) => pct(x.precision)],
      [t('recall'), (x) => pct(x.recall)]], m.expected)] : null,
    h('h2', {}, t('model_reviewed')),
    table(t('model_reviewed'), [
      [t('level_label'), (x) => t(`level.${x.level}`)],
      [t('model_same_work'), (x) => x.same_work],
      [t('model_not_same_work'), (x) => x.not_same_work]], m.reviewed),
    h('h2', {}, t('model_weights')),
    h('p', { class: 'lead' }, t('model_weights_lead')),
    m.comparisons.map((c) => {
      const name = t(`feature.${c.name}`, {}, c.name);
      return [h('h3', {}, name), table(name, [
        [t('level_label'), (l) => t(`mlevel.${l.level}`, {}, l.level)],
        [t('model_weight'), (l) => signed(l.weight)],
        ['m', (l) => pct(l.m)],
        ['u', (l) => pct(l.u)]], c.levels)];
    }));
}
