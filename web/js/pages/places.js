// Where the work is: the world map (countries shaded by the activities running in a period, with
// the same figures as a table) and a country's timeline (each agency's activities as bars over the
// period, coloured by theme, with the duplicate cases and overlaps between them drawn as links).

import { get, query } from '../api.js';
import { t, countryName, fmtNumber } from '../i18n.js';
import { h, add, field, table, fmtDate } from '../ui.js';
import { ctx, agencyOptions } from '../context.js';
import { filterForm } from './activities.js';
import { WORLD } from '../world.js';

const SHADES = 5;
const themeOptions = () => ctx.vocab.themes.map((x) => [x, t(`theme.${x}`)]);
const sdgOptions = () => ctx.vocab.sdg_targets.map((x) => [x, t(`sdg.${x}`)]);
const anyOption = (options) => [['', t('any')], ...options];

/** The shade class (1 to 5) of a count: steps of a fifth of the largest, as the legend says. */
const shadeOf = (n, step) => (n > 0 ? Math.min(SHADES, Math.ceil(n / step)) : 0);

/** The world map of `report` (GET /api/v1/reports/countries) with its legend and its table. */
export function mapFigure(report, params = '') {
  const byCode = new Map(report.countries.map((c) => [c.country, c]));
  const max = Math.max(1, ...report.countries.map((c) => c.activities));
  const step = Math.ceil(max / SHADES);
  const svg = h('svg:svg', { viewBox: `0 0 ${WORLD.width} ${WORLD.height}`, class: 'world', 'aria-hidden': 'true', focusable: 'false' });
  for (const [code, d] of Object.entries(WORLD.paths)) {
    const c = byCode.get(code);
    const shade = c ? shadeOf(c.activities, step) : 0;
    const path = h('svg:path', { d, class: `country shade-${shade}`, 'data-country': code },
      h('svg:title', {}, c ? `${countryName(code)}: ${t('place.activities', { count: c.activities })}` : countryName(code)));
    // Countries with work are links (the table beside gives the same links to keyboards and screen readers).
    svg.append(c ? h('svg:a', { href: `#/countries/${code}${params}`, tabindex: '-1' }, path) : path);
  }
  const legend = h('ul', { class: 'legend', 'aria-label': t('place.legend') },
    h('li', {}, h('span', { class: 'swatch shade-0' }), t('place.none')),
    Array.from({ length: SHADES }, (_, i) => {
      const lo = i * step + 1;
      const hi = Math.min(max, (i + 1) * step);
      return lo > max ? null : h('li', {}, h('span', { class: `swatch shade-${i + 1}` }), lo === hi ? fmtNumber(lo) : `${fmtNumber(lo)}–${fmtNumber(hi)}`);
    }));
  return h('figure', { class: 'map-figure' },
    h('figcaption', {}, t('place.map_caption', { from: fmtDate(report.from), to: fmtDate(report.to) })),
    svg, legend,
    table(t('place.table_caption'), [
      [t('country'), (c) => h('a', { href: `#/countries/${c.country}${params}` }, countryName(c.country))],
      [t('place.activities_col'), (c) => c.activities],
      [t('themes'), (c) => Object.entries(c.by_theme).map(([k, n]) => `${t(`theme.${k}`)} ${n}`).join(', ')],
      [t('place.agencies'), (c) => c.agencies.join(', ')],
      [t('place.open_cases'), (c) => c.open_cases],
      [t('place.overlaps'), (c) => c.overlaps],
    ], report.countries, { empty: t('place.empty') }));
}

export async function worldMap(view, { params }) {
  const filters = Object.fromEntries(['from', 'to', 'theme', 'sdg', 'agency'].map((k) => [k, params.get(k) || '']));
  const report = await get(`/api/v1/reports/countries${query(filters)}`);
  const fields = [
    field('from', t('from'), { kind: 'date', value: filters.from }),
    field('to', t('to'), { kind: 'date', value: filters.to }),
    field('theme', t('theme'), { kind: 'select', value: filters.theme, options: anyOption(themeOptions()) }),
    field('sdg', t('sdg_target'), { kind: 'select', value: filters.sdg, options: anyOption(sdgOptions()) }),
    field('agency', t('agency'), { kind: 'select', value: filters.agency, options: anyOption(agencyOptions('acronym')) }),
  ];
  add(view,
    h('h1', {}, t('place.map_title')),
    h('p', { class: 'lead' }, t('place.map_lead')),
    filterForm('#/map', params, fields),
    mapFigure(report, query({ theme: filters.theme })));
}

/** Bars on a time axis: x of a day. */
function axis(from, to, x0, width) {
  const start = Date.parse(`${from}T00:00:00Z`);
  const span = Math.max(1, Date.parse(`${to}T00:00:00Z`) - start + 86_400_000);
  return (day, end = false) => {
    const ms = Date.parse(`${day}T00:00:00Z`) + (end ? 86_400_000 : 0);
    return x0 + (Math.min(Math.max(ms - start, 0), span) / span) * width;
  };
}

export async function countryPage(view, { code, params }) {
  const year = new Date().getUTCFullYear();
  const from = params.get('from') || `${year}-01-01`;
  const to = params.get('to') || `${year + 1}-12-31`;
  const theme = params.get('theme') || '';
  const data = await get(`/api/v1/countries/${encodeURIComponent(code)}/timeline${query({ from, to, theme })}`);
  const name = countryName(data.country);
  const fields = [
    field('from', t('from'), { kind: 'date', value: from }),
    field('to', t('to'), { kind: 'date', value: to }),
    field('theme', t('theme'), { kind: 'select', value: theme, options: anyOption(themeOptions()) }),
  ];
  const byId = new Map(data.activities.map((a) => [a.id, a]));
  const open = data.pairs.filter((p) => p.review !== 'not_duplicate');
  // One row per activity, grouped by agency: the agency's name (and focal point) heads its group.
  const rowH = 26;
  const labelW = 200;
  const width = 1000;
  const x = axis(data.from, data.to, labelW, width - labelW - 10);
  const rows = [];
  for (const g of data.agencies) {
    rows.push({ group: g });
    for (const a of data.activities.filter((a) => a.agency_id === g.agency_id)) rows.push({ activity: a });
  }
  const top = 28;
  const height = top + rows.length * rowH + 8;
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, class: 'timeline', role: 'group', 'aria-label': t('place.timeline_label', { country: name }) });
  // Years on the axis.
  for (let y = Number(data.from.slice(0, 4)); y <= Number(data.to.slice(0, 4)); y += 1) {
    const day = `${y}-01-01` < data.from ? data.from : `${y}-01-01`;
    const at = x(day);
    svg.append(h('svg:line', { x1: at, x2: at, y1: top - 6, y2: height, class: 'tick', 'aria-hidden': 'true' }),
      h('svg:text', { x: at + 3, y: top - 10, class: 'tick-label', 'aria-hidden': 'true' }, String(y)));
  }
  const middle = new Map();
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    if (r.group) {
      const contact = r.group.name ? `${r.group.agency} · ${r.group.name}` : r.group.agency;
      svg.append(h('svg:text', { x: 4, y: y + 17, class: 'group-label' }, contact.length > 30 ? `${contact.slice(0, 29)}…` : contact));
      return;
    }
    const a = r.activity;
    const x1 = x(a.start_date);
    const x2 = Math.max(x1 + 3, x(a.end_date, true));
    middle.set(a.id, { x: (x1 + x2) / 2, y: y + rowH / 2 });
    const label = t('place.bar_label', {
      title: a.title, agency: a.agency, from: fmtDate(a.start_date), to: fmtDate(a.end_date),
      themes: a.themes.map((k) => t(`theme.${k}`)).join(', '),
    });
    svg.append(h('svg:text', { x: 12, y: y + 17, class: 'bar-label', 'aria-hidden': 'true' }, a.title.length > 28 ? `${a.title.slice(0, 27)}…` : a.title),
      h('svg:a', { href: `#/activities/${a.id}`, 'aria-label': label, class: 'bar-link', 'data-activity': a.id },
        h('svg:title', {}, label),
        h('svg:rect', { x: x1, y: y + 5, width: x2 - x1, height: rowH - 10, rx: 3, class: `bar theme-${a.themes[0] || 'none'}` })));
  });
  // The pairs between bars: duplicates and possible duplicates solid, overlaps dashed.
  for (const p of open) {
    const a = middle.get(p.a);
    const b = middle.get(p.b);
    if (!a || !b) continue;
    svg.append(h('svg:line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: `pair level-${p.level}${p.review ? ' reviewed' : ''}`, 'data-pair': `${p.a}:${p.b}`, 'aria-hidden': 'true' }));
  }
  const pairsOf = (id) => open.filter((p) => p.a === id || p.b === id);
  add(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/map' }, t('place.map_title'))),
    h('h1', {}, name),
    h('p', { class: 'lead' }, t('place.country_lead', { country: name, from: fmtDate(data.from), to: fmtDate(data.to) })),
    filterForm(`#/countries/${data.country}`, params, fields),
    data.truncated ? h('p', { class: 'warn' }, t('place.truncated')) : null,
    data.activities.length
      ? [h('div', { class: 'timeline-wrap' }, svg),
        h('ul', { class: 'legend', 'aria-label': t('place.legend') },
          ctx.vocab.themes.map((k) => h('li', {}, h('span', { class: `swatch bar theme-${k}` }), t(`theme.${k}`))),
          h('li', {}, h('span', { class: 'swatch pair-key level-duplicate' }), t('level.strong')),
          h('li', {}, h('span', { class: 'swatch pair-key level-overlap' }), t('level.overlap')))]
      : h('p', { class: 'empty' }, t('place.no_activities', { country: name })),
    table(t('place.timeline_table', { country: name }), [
      [t('title'), (a) => h('a', { href: `#/activities/${a.id}` }, a.title)],
      [t('agency'), (a) => a.agency],
      [t('period'), (a) => `${fmtDate(a.start_date)} – ${fmtDate(a.end_date)}`],
      [t('themes'), (a) => a.themes.map((k) => t(`theme.${k}`)).join(', ')],
      [t('place.matches'), (a) => pairsOf(a.id).map((p) => {
        const other = byId.get(p.a === a.id ? p.b : p.a);
        return other ? `${t(`level.${p.level}`)}: ${other.agency} – ${other.title}` : '';
      }).filter(Boolean).join('; ') || '—'],
    ], data.activities, { empty: t('place.no_activities', { country: name }) }),
    data.agencies.length ? table(t('place.contacts'), [
      [t('agency'), (g) => h('a', { href: `#/agencies/${encodeURIComponent(g.agency)}` }, g.agency)],
      [t('primary_focal_point'), (g) => (g.name ? `${g.name} (${g.email})` : t('none_designated'))],
    ], data.agencies) : null);
}
