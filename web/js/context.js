// What every page needs to know besides its own data: the vocabularies, the member agencies and
// their current focal points, and what the signed-in user may do. Loaded once per sign-in.

import { get, session } from './api.js';

export const ctx = {
  vocab: { countries: [], themes: [], sdg_targets: [], activity_statuses: [], roles: [], agency_kinds: [], review_decisions: [] },
  agencies: [],
  /** Current focal points by agency id (primary first). */
  focalPoints: new Map(),
};

export async function loadContext() {
  const [vocab, agencies] = await Promise.all([
    get('/api/v1/vocabularies'),
    get('/api/v1/agencies?per_page=100'),
  ]);
  ctx.vocab = vocab;
  ctx.agencies = agencies.items.sort((a, b) => a.acronym.localeCompare(b.acronym));
  await loadFocalPoints();
}

export async function loadFocalPoints() {
  const byAgency = new Map();
  for (let page = 1; ; page += 1) {
    const p = await get(`/api/v1/focal-points?per_page=100&page=${page}`);
    for (const fp of p.items) {
      if (!byAgency.has(fp.agency_id)) byAgency.set(fp.agency_id, []);
      byAgency.get(fp.agency_id).push(fp);
    }
    if (page * p.per_page >= p.total) break;
  }
  for (const list of byAgency.values()) list.sort((a, b) => (a.role === 'primary' ? -1 : 0) - (b.role === 'primary' ? -1 : 0));
  ctx.focalPoints = byAgency;
}

export const agencyById = (id) => ctx.agencies.find((a) => a.id === id);
export const agencyByAcronym = (acr) => ctx.agencies.find((a) => a.acronym.toLowerCase() === String(acr).toLowerCase());
export const myAgency = () => (session.user?.agency_id ? agencyById(session.user.agency_id) : null);
export const isAdmin = () => session.user?.role === 'admin';
/** Whether the user may write records of this agency (the server decides; this only hides buttons). */
export const canWrite = (agencyId) => isAdmin() || (session.user?.role === 'editor' && session.user.agency_id === agencyId);
export const primaryOf = (agencyId) => (ctx.focalPoints.get(agencyId) || []).find((fp) => fp.role === 'primary');
/** Agencies as select options: [id, "ACR — Name"]. */
export const agencyOptions = (value = 'id') => ctx.agencies.map((a) => [a[value], `${a.acronym} — ${a.name}`]);
