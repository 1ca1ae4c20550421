// The browser tests' harness: a real `icat` server on a free loopback port with a fresh database
// (SQLite in a temporary folder, or a new PostgreSQL database when ICAT_TEST_PG_URL is set), the
// API for preparing data, and Debian's Chromium driven headless by playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
export const shotsDir = join(root, 'target', 'e2e');
export const ADMIN = { email: 'secretariat@icat.example', password: 'correct horse battery staple 42' };
export const PASSWORD = 'a long passphrase for e2e tests';
/** The password the secretariat gives a new account; its owner must replace it at once. */
export const FIRST_PASSWORD = 'a first password handed over';

/** The backends to run on: SQLite always, PostgreSQL when ICAT_TEST_PG_URL is set. */
export const backends = ['sqlite', ...(process.env.ICAT_TEST_PG_URL ? ['postgres'] : [])];

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/** A PostgreSQL URL with another database name. */
function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function startServer(backend) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'icat-e2e-'));
  let database = join(dir, 'icat.db');
  let dropDatabase = null;
  if (backend === 'postgres') {
    const name = `icat_e2e_${randomBytes(6).toString('hex')}`;
    execFileSync('psql', [process.env.ICAT_TEST_PG_URL, '-qc', `CREATE DATABASE ${name}`]);
    database = withDatabase(process.env.ICAT_TEST_PG_URL, name);
    dropDatabase = () => execFileSync('psql', [process.env.ICAT_TEST_PG_URL, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
  }
  const bin = process.env.ICAT_BIN || join(root, 'target', 'debug', 'icat');
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: database,
      ICAT_BIND: `127.0.0.1:${port}`,
      ICAT_ADMIN_EMAIL: ADMIN.email,
      ICAT_ADMIN_PASSWORD: ADMIN.password,
      ICAT_LOG: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`icat exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('icat did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    backend,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
      if (dropDatabase) dropDatabase();
    },
  };
}

/** A small API client for preparing data and checking what the browser did. */
export function apiClient(base) {
  const call = async (method, path, body, token, headers = {}) => {
    const r = await fetch(base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    let data = null;
    try { data = JSON.parse(text); } catch { data = text; }
    return { status: r.status, data, etag: r.headers.get('etag') };
  };
  return {
    call,
    async login(email, password) {
      const r = await call('POST', '/api/v1/auth/login', { email, password });
      if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.data)}`);
      return r.data.access_token;
    },
    /** Creates an account as the admin and, as its owner, replaces the first password with PASSWORD. */
    async newUser(fields, adminToken) {
      const r = await call('POST', '/api/v1/users', { ...fields, password: FIRST_PASSWORD }, adminToken);
      if (r.status !== 201) throw new Error(`new user ${fields.email}: ${r.status} ${JSON.stringify(r.data)}`);
      const token = await this.login(fields.email, FIRST_PASSWORD);
      const c = await call('POST', '/api/v1/auth/password', { current_password: FIRST_PASSWORD, new_password: PASSWORD }, token);
      if (c.status !== 204) throw new Error(`first password of ${fields.email}: ${c.status} ${JSON.stringify(c.data)}`);
      return r.data;
    },
  };
}

/** Launches Debian's Chromium headless; no tool downloads a browser of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
}

/**
 * A new page that records every script error and console error (a CSP violation shows as one);
 * failed requests the test provoked on purpose (4xx answers) are left out.
 */
export async function newPage(browser, base, { width = 1280, height = 900, locale = 'en-GB' } = {}) {
  const context = await browser.newContext({ baseURL: base, viewport: { width, height }, locale, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      page.errors.push(`console: ${m.text()}`);
    }
  });
  return page;
}

export async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** axe-core's source, evaluated into a page by the DevTools protocol (the app's CSP refuses inline scripts). */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's rules on the whole document: every violation of impact serious or critical, as
 * "rule: first elements" (WCAG 2.1 AA and best practices, axe's defaults).
 */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `axe ${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/** Every page's checks: ours below, then axe-core's. */
export async function checkPage(page) {
  return [...(await ownChecks(page)), ...(await axeViolations(page))];
}

/**
 * Checks that hold on every page: each form control has a label, each button and link a name,
 * no `null` or `undefined` shows, the page has one h1, and nothing overflows sideways.
 */
function ownChecks(page) {
  return page.evaluate(() => {
    const problems = [];
    for (const c of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      const named = (c.labels && c.labels.length) || c.getAttribute('aria-label') || c.getAttribute('aria-labelledby');
      if (!named) problems.push(`unlabelled ${c.tagName.toLowerCase()} ${c.name || c.id}`);
    }
    for (const b of document.querySelectorAll('button, a[href]')) {
      if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push(`unnamed ${b.tagName.toLowerCase()}`);
    }
    // A value the page forgot to turn into words (`null`, `undefined`, `[object Object]`).
    const leaked = /\b(null|undefined|NaN)\b|\[object Object\]/.exec(document.querySelector('main').innerText);
    if (leaked) problems.push(`"${leaked[0]}" shown on the page`);
    const h1 = document.querySelectorAll('main h1').length;
    if (h1 !== 1) problems.push(`${h1} h1 elements in main`);
    if (document.documentElement.scrollWidth > window.innerWidth + 1) {
      problems.push(`horizontal overflow: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    }
    return problems;
  });
}
