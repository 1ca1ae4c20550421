// The dashboard: my agency's activities, the open duplicate cases that involve it, and the state
// of its focal-point designation. For the secretariat: the registry's coverage at a glance.

import { get, query, session } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { h, add, fmtDate, fmtTime, table, levelBadge, chance } from '../ui.js';
import { myAgency, primaryOf, canWrite } from '../context.js';
import { activityTable } from './activities.js';

export async function dashboard(view) {
  const agency = myAgency();
  add(view, h('h1', {}, agency ? t('dashboard_title_agency', { agency: agency.acronym }) : t('dashboard_title')));
  if (!agency) {
    await secretariat(view);
    return;
  }
  const [activities, report] = await Promise.all([
    get(`/api/v1/activities${query({ agency: agency.acronym, per_page: 10 })}`),
    get(`/api/v1/reports/duplicates${query({ agency: agency.acronym, status: 'open', per_page: 5 })}`),
  ]);
  const fp = primaryOf(agency.id);
  const cases = report.clusters;
  const open = report.total;
  add(view, 
    h('div', { class: 'tiles' },
      tile(t('tile_activities'), activities.total, '#/activities?agency=' + encodeURIComponent(agency.acronym)),
      tile(t('tile_open_cases'), open, '#/duplicates?agency=' + encodeURIComponent(agency.acronym)),
      tile(t('tile_focal_point'), fp ? fp.name : t('none_designated'), `#/agencies/${encodeURIComponent(agency.acronym)}`, !fp)),
    h('section', { 'aria-labelledby': 'fp-h' },
      h('h2', { id: 'fp-h' }, t('my_focal_point')),
      fp ? h('p', {}, t('fp_status', { name: fp.name, email: fp.email, date: fmtDate(fp.last_confirmed_at) }))
        : h('p', { class: 'warn' }, t('fp_missing')),
      canWrite(agency.id) ? h('p', {}, h('a', { href: `#/agencies/${encodeURIComponent(agency.acronym)}`, class: 'button' }, fp ? t('manage_focal_points') : t('designate_focal_point'))) : null),
    h('section', { 'aria-labelledby': 'cases-h' },
      h('h2', { id: 'cases-h' }, t('open_cases')),
      cases.length ? h('ul', { class: 'cases' }, cases.map((c) => {
        const top = c.pairs[0];
        return h('li', {}, levelBadge(c.level || top.level), ' ',
          h('a', { href: `#/duplicates?agency=${encodeURIComponent(agency.acronym)}` }, c.activities.map((a) => `${a.agency_acronym}: ${a.title}`).join(' ↔ ')),
          ` (${chance(top.score)})`);
      })) : h('p', { class: 'empty' }, t('no_open_cases')),
      open > cases.length ? h('p', {}, h('a', { href: `#/duplicates?agency=${encodeURIComponent(agency.acronym)}` }, t('all_cases', { count: open }))) : null),
    h('section', { 'aria-labelledby': 'acts-h' },
      h('h2', { id: 'acts-h' }, t('my_activities')),
      activityTable(activities.items, t('my_activities'), t('no_activities_yet')),
      session.user.role !== 'viewer' ? h('p', {}, h('a', { href: '#/activities/new', class: 'button primary' }, t('record_activity'))) : null));
}

function tile(label, value, href, warn = false) {
  return h('a', { class: `tile${warn ? ' warn' : ''}`, href }, h('span', { class: 'tile-value' }, fmtNumber(value)), h('span', { class: 'tile-label' }, label));
}

async function secretariat(view) {
  const [coverage, participation, report] = await Promise.all([
    get('/api/v1/reports/focal-point-coverage'),
    get('/api/v1/reports/participation'),
    get('/api/v1/reports/duplicates?status=open&per_page=1'),
  ]);
  const rows = participation.items || participation;
  const silent = rows.filter((p) => p.activities_last_12_months === 0);
  add(view, 
    h('div', { class: 'tiles' },
      tile(t('tile_members'), coverage.agencies_total, '#/admin/agencies'),
      tile(t('tile_with_primary'), `${coverage.with_primary} / ${coverage.agencies_total}`, '#/reports', coverage.without_primary.length > 0),
      tile(t('tile_not_reporting'), silent.length, '#/reports', silent.length > 0),
      tile(t('tile_open_cases'), report.total, '#/duplicates')),
    h('section', { 'aria-labelledby': 'nofp-h' },
      h('h2', { id: 'nofp-h' }, t('without_primary')),
      table(t('without_primary'), [
        [t('acronym'), (a) => h('a', { href: `#/agencies/${encodeURIComponent(a.acronym)}` }, a.acronym)],
        [t('name'), (a) => a.name]], coverage.without_primary, { empty: t('all_have_primary') })),
    h('section', { 'aria-labelledby': 'silent-h' },
      h('h2', { id: 'silent-h' }, t('not_reporting')),
      table(t('not_reporting'), [
        [t('acronym'), (p) => p.acronym],
        [t('name'), (p) => p.name],
        [t('working_group'), (p) => (p.working_group ? t('yes') : t('no'))],
        [t('last_activity'), (p) => fmtTime(p.last_activity_at)]], silent, { empty: t('all_reporting') })));
}
