// The API client: the session (access token in memory, refresh token in this tab's sessionStorage),
// renewal before expiry, and problem details turned into errors the pages can show.
//
// Why sessionStorage and not localStorage: refresh tokens rotate on every use and a reused one ends
// the whole session, so two tabs sharing one token would sign each other out. One tab, one session.

const REFRESH_KEY = 'icat.refresh';
const RENEW_MARGIN_S = 60;

let access = null;
let user = null;
let renewTimer = null;
let refreshing = null;
const listeners = new Set();

/** An API failure: `status`, the problem's `code`, `detail`, and per-field `errors`. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'internal';
    this.title = problem.title || '';
    this.detail = problem.detail || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
  }
}

export const session = {
  get user() { return user; },
  get signedIn() { return user !== null; },
  /** Signed in with a password of the user's own choosing: the rest of the workspace is open. */
  get open() { return user !== null && !user.must_change_password; },
  /** Called with the user (or null) whenever the session starts or ends. */
  onChange(fn) { listeners.add(fn); },
};

function announce() { for (const fn of listeners) fn(user); }

function start(tokens) {
  access = tokens.access_token;
  user = tokens.user;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  clearTimeout(renewTimer);
  const renewIn = Math.max(5, (tokens.expires_in || 900) - RENEW_MARGIN_S);
  renewTimer = setTimeout(() => { renew().catch(() => end()); }, renewIn * 1000);
}

function end() {
  access = null;
  user = null;
  clearTimeout(renewTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  announce();
}

async function problemOf(res) {
  const type = res.headers.get('content-type') || '';
  if (type.includes('json')) {
    try { return await res.json(); } catch { /* fall through */ }
  }
  return { title: res.statusText, status: res.status, code: res.status >= 500 ? 'internal' : 'unknown' };
}

/** Exchanges the stored refresh token for a new pair; one exchange at a time. */
function renew() {
  if (refreshing) return refreshing;
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return Promise.reject(new ApiError(401, { code: 'unauthorized' }));
  refreshing = (async () => {
    const res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    });
    if (!res.ok) throw new ApiError(res.status, await problemOf(res));
    const wasSignedIn = user !== null;
    start(await res.json());
    if (!wasSignedIn) announce();
  })().finally(() => { refreshing = null; });
  return refreshing;
}

/** Restores the session of this tab after a reload, if it has one. */
export async function resume() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return false;
  try {
    await renew();
    return true;
  } catch {
    end();
    return false;
  }
}

export async function login(email, password) {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  start(await res.json());
  announce();
}

/** The account has chosen its own password: the rest of the workspace opens. */
export function passwordChosen() {
  if (!user) return;
  user = { ...user, must_change_password: false };
  announce();
}

export async function logout() {
  try { await request('/api/v1/auth/logout', { method: 'POST' }); } catch { /* ending anyway */ }
  end();
}

/**
 * Calls the API. `body` is sent as JSON unless it is a string (then `contentType` says what it is).
 * Answers `{status, data, etag, response}`; throws ApiError for any status >= 400. A 401 renews the
 * session once and retries; if that fails the session ends.
 */
export async function request(path, { method = 'GET', body, contentType, headers = {}, blob = false } = {}, retried = false) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (access) init.headers.Authorization = `Bearer ${access}`;
  if (body !== undefined) {
    if (typeof body === 'string') {
      init.body = body;
      init.headers['Content-Type'] = contentType || 'text/plain';
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: 'network', title: 'network' });
  }
  if (res.status === 401 && !retried && sessionStorage.getItem(REFRESH_KEY)) {
    try {
      await renew();
    } catch {
      end();
      throw new ApiError(401, await problemOf(res));
    }
    return request(path, { method, body, contentType, headers, blob }, true);
  }
  if (res.status === 401) {
    const problem = await problemOf(res);
    if (user) end();
    throw new ApiError(401, problem);
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  let data = null;
  if (blob) data = await res.blob();
  else if (res.status !== 204) {
    const type = res.headers.get('content-type') || '';
    data = type.includes('json') ? await res.json() : await res.text();
  }
  return { status: res.status, data, etag: res.headers.get('etag'), response: res };
}

export const get = (path) => request(path).then((r) => r.data);
export const post = (path, body, opts = {}) => request(path, { ...opts, method: 'POST', body });
export const patch = (path, body, etag) =>
  request(path, { method: 'PATCH', body, headers: etag ? { 'If-Match': etag } : {} });
export const del = (path, etag) =>
  request(path, { method: 'DELETE', headers: etag ? { 'If-Match': etag } : {} });

/** Builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Downloads an authenticated resource as a file (links cannot carry the bearer token). */
export async function download(path, filename) {
  const { data, response } = await request(path, { blob: true, headers: { Accept: '*/*' } });
  const disposition = response.headers.get('content-disposition') || '';
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(data);
  a.download = named ? named[1] : filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
