// Every flow of the front-end, walked in headless Chromium as a person would, on each backend.
// Screenshots of each page go to target/e2e/ (the SQLite run; the PostgreSQL run prefixes `pg-`).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  backends, startServer, apiClient, launchBrowser, newPage, shot, checkPage, ADMIN, PASSWORD, FIRST_PASSWORD,
} from './harness.js';

const web = resolve(import.meta.dirname, '../../web');

test('every interface text exists in English, French and Spanish', async () => {
  const { en } = await import(join(web, 'js/lang/en.js'));
  const { fr } = await import(join(web, 'js/lang/fr.js'));
  const { es } = await import(join(web, 'js/lang/es.js'));
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort(), 'fr.js and en.js have the same keys');
  assert.deepEqual(Object.keys(es).sort(), Object.keys(en).sort(), 'es.js and en.js have the same keys');
  // Only the weak-password rule may be left to the server's words, and only in English.
  for (const [name, dict] of [['fr', fr], ['es', es]]) {
    const empty = Object.entries(dict).filter(([, v]) => !v).map(([k]) => k);
    assert.deepEqual(empty, [], `${name}: every text is written`);
  }
  const files = ['app.js', ...readdirSync(join(web, 'js')).filter((f) => f.endsWith('.js')).map((f) => `js/${f}`),
    ...readdirSync(join(web, 'js/pages')).map((f) => `js/pages/${f}`)];
  const missing = [];
  for (const f of files) {
    const src = readFileSync(join(web, f), 'utf8');
    for (const m of src.matchAll(/\bt\('([^']+)'/g)) {
      if (!(m[1] in en) && !(`${m[1]}_other` in en)) missing.push(`${f}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, [], 'every t() key is in the dictionary');
  // Every rule the server names by a code is worded by the interface (so no server English shows
  // in French or Spanish); only zxcvbn's advice and the CSV reader's own words stay English in English.
  const crates = resolve(import.meta.dirname, '../../crates');
  const codes = new Set();
  for (const f of readdirSync(crates, { recursive: true }).filter((f) => f.endsWith('.rs'))) {
    const src = readFileSync(join(crates, f), 'utf8');
    for (const m of src.matchAll(/Rule::new\(\s*"([a-z_]+)"/g)) codes.add(m[1]);
    if (f.endsWith('error.rs')) for (const m of src.matchAll(/Self::new\(\s*"([a-z_]+)"/g)) codes.add(m[1]);
  }
  assert.ok(codes.size > 20, `rule codes found in the server: ${[...codes]}`);
  const unworded = [...codes].filter((c) => !(`rule_${c}` in en) || (!en[`rule_${c}`] && !['weak_password', 'unreadable'].includes(c)));
  assert.deepEqual(unworded, [], 'every rule code has its words');
});

for (const backend of backends) {
  describe(`front-end on ${backend}`, () => {
    const tag = backend === 'sqlite' ? '' : 'pg-';
    let server;
    let browser;
    let api;
    let admin;
    const ids = {};
    const users = {
      unodc: { email: 'editor@unodc.example', name: 'Amina Editor', role: 'editor', agency: 'UNODC' },
      ilo: { email: 'editor@ilo.example', name: 'Lucas Editor', role: 'editor', agency: 'ILO' },
      viewer: { email: 'viewer@iom.example', name: 'Vera Viewer', role: 'viewer', agency: 'IOM' },
    };

    before(async () => {
      server = await startServer(backend);
      browser = await launchBrowser();
      api = apiClient(server.base);
      admin = await api.login(ADMIN.email, ADMIN.password);
      for (const acr of ['UNODC', 'ILO', 'IOM']) {
        ids[acr] = (await api.call('GET', `/api/v1/agencies/${acr}`, undefined, admin)).data.id;
      }
      for (const u of Object.values(users)) {
        await api.newUser({ email: u.email, name: u.name, role: u.role, agency_id: ids[u.agency] }, admin);
      }
      // ILO's focal point and an ILO activity that UNODC's editor will nearly copy.
      const ilo = await api.login(users.ilo.email, PASSWORD);
      let r = await api.call('POST', `/api/v1/agencies/${ids.ILO}/focal-points`, {
        role: 'primary', name: 'Lucía Fernández', email: 'l.fernandez@ilo.example', languages: ['es', 'en'], countries: ['NG'],
      }, ilo);
      assert.equal(r.status, 201, JSON.stringify(r.data));
      r = await api.call('POST', '/api/v1/activities', {
        title: 'Training of border officials on identifying victims of trafficking in Nigeria',
        description: 'Three-day workshops for border and immigration officers in Lagos and Kano on indicators of trafficking, referral of victims and cooperation with labour inspectors.',
        countries: ['NG'], themes: ['protection', 'prevention'], sdg_targets: ['8.7'],
        target_groups: ['border officials'], partners: ['NAPTIP'],
        start_date: '2027-02-01', end_date: '2027-06-30', status: 'planned',
      }, ilo);
      assert.equal(r.status, 201, JSON.stringify(r.data));
      ids.iloActivity = r.data.activity.id;
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    async function signIn(page, email, password = PASSWORD) {
      await page.goto('/');
      await page.waitForSelector('form input[name=email]');
      await page.fill('input[name=email]', email);
      await page.fill('input[name=password]', password);
      await page.press('input[name=password]', 'Enter');
      await page.waitForSelector('#sign-out', { state: 'attached' });
      await page.waitForFunction(() => !location.hash.startsWith('#/login') && /dashboard/i.test(document.querySelector('main h1')?.textContent));
    }

    async function visit(page, hash, h1) {
      await page.goto(`/${hash}`);
      await page.waitForFunction((text) => document.querySelector('main h1')?.textContent.includes(text), h1);
    }

    async function assertClean(page, name) {
      assert.deepEqual(await checkPage(page), [], `${name}: accessibility checks`);
      assert.deepEqual(page.errors, [], `${name}: no script or console errors`);
      await shot(page, `${tag}${name}`);
    }

    test('an editor signs in with the keyboard alone and sees the dashboard', async () => {
      const page = await newPage(browser, server.base);
      await page.goto('/');
      await page.waitForSelector('form input[name=email]');
      // The page's heading has focus; the next stop is the e-mail field.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.name), 'email');
      // The skip link takes keyboard users past the header to the page itself.
      await page.focus('.skip');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
      assert.match(page.url(), /#\/login/, 'the skip link does not change the route');
      await page.focus('input[name=email]');
      await page.keyboard.type(users.unodc.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type('wrong password entirely');
      await page.keyboard.press('Enter');
      await page.waitForSelector('.problem:not([hidden])');
      assert.match(await page.textContent('.problem'), /e-mail address or password is wrong/);
      assert.equal(await page.evaluate(() => document.activeElement.classList.contains('problem')), true, 'the error takes focus');
      await assertClean(page, '01-sign-in-error');
      await page.fill('input[name=password]', PASSWORD);
      await page.focus('input[name=password]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('text=UNODC dashboard');
      assert.match(await page.textContent('main'), /No primary focal point is designated/);
      await assertClean(page, '02-dashboard-editor');
      await page.context().close();
    });

    test('recording an activity shows a live duplicate warning for another agency’s near-copy, before and after saving', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.click('nav >> text=Record');
      await page.waitForSelector('main h1:text("Record an activity")');
      await page.fill('input[name=title]', 'Training border officials to identify trafficking victims in Nigeria');
      await page.fill('textarea[name=description]', 'Workshops for border and immigration officers in Lagos and Kano on trafficking indicators and victim referral.');
      await page.fill('input[name=countries]', 'Nigeria');
      await page.press('input[name=countries]', 'Enter');
      assert.match(await page.textContent('ul.chips'), /Nigeria/);
      await page.fill('input[name=start_date]', '2027-03-01');
      await page.fill('input[name=end_date]', '2027-07-31');
      await page.check('label:text("Protection")');
      // The warning appears while typing, with the reasons and ILO's focal point.
      const match = page.locator('.live-check .match', { hasText: 'Training of border officials' });
      await match.waitFor({ timeout: 15_000 });
      const text = await match.textContent();
      assert.match(text, /ILO/);
      assert.match(text, /Duplicate|Possible duplicate/);
      assert.match(text, /likely the same work \(\d+%\)/, 'the score reads as a chance in words');
      assert.match(text, /Lucía Fernández/, 'the other agency’s focal point is shown');
      assert.ok(await match.locator('.reasons li').count() >= 3, 'reasons are listed');
      // Reasons name countries and themes, not their codes.
      const reasons = await match.locator('.reasons').textContent();
      assert.match(reasons, /same countries: Nigeria/);
      assert.match(reasons, /themes in common: Protection/);
      assert.doesNotMatch(reasons, /\bNG\b|: protection/);
      await assertClean(page, '03-record-live-check');
      await page.click('button:text("Save the activity")');
      await page.waitForSelector('#matches-title');
      assert.match(await page.textContent('#status'), /Activity saved/);
      assert.match(await page.textContent('.matches'), /Training of border officials/);
      ids.unodcActivity = page.url().split('#/activities/')[1];
      await assertClean(page, '04-activity-detail');
      // Saving the same activity again is refused with a link to the existing one.
      await page.click('nav >> text=Record');
      await page.waitForSelector('main h1:text("Record an activity")');
      await page.fill('input[name=title]', 'Training border officials to identify trafficking victims in Nigeria');
      await page.fill('textarea[name=description]', 'Same workshops, entered twice.');
      await page.check('label:text("Protection")');
      await page.fill('input[name=countries]', 'NG');
      await page.press('input[name=countries]', 'Enter');
      await page.fill('input[name=start_date]', '2027-03-01');
      await page.fill('input[name=end_date]', '2027-07-31');
      await page.click('button:text("Save the activity")');
      await page.waitForSelector('.problem:not([hidden])');
      assert.match(await page.textContent('.problem'), /already recorded this activity/);
      await page.click('text=Open the activity already recorded');
      await page.waitForURL(new RegExp(`#/activities/${ids.unodcActivity}$`));
      // Edit it: the form comes back filled in and the change is saved with If-Match.
      await page.click('main a:text("Edit")');
      await page.waitForSelector('main h1:text("Edit the activity")');
      assert.equal(await page.inputValue('input[name=end_date]'), '2027-07-31');
      await page.fill('input[name=budget_usd]', '120000');
      await page.click('button:text("Save changes")');
      await page.waitForSelector('#matches-title');
      assert.match(await page.textContent('dl.facts'), /120,000/);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });

    test('an editor designates a focal point and finds it in the directory; vCard downloads', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.click('main a:text("Designate a focal point")');
      await page.waitForSelector('main h1:text("UNODC")');
      const form = page.locator('form', { hasText: 'Designate a focal point' });
      await form.locator('input[name=name]').fill('Ibrahim Okafor');
      await form.locator('input[name=title]').fill('Crime Prevention Officer');
      await form.locator('input[name=email]').fill('i.okafor@unodc.example');
      await form.locator('input[name=phone]').fill('+43 1 26060 0');
      await form.locator('input[name=languages]').fill('en, fr');
      await form.locator('input[name=countries]').fill('Nigeria');
      await form.locator('input[name=countries]').press('Enter');
      await form.locator('button:text("Designate")').click();
      await page.waitForSelector('.fp h3:text("Ibrahim Okafor")');
      await assertClean(page, '05-agency-page');
      // Confirm the details.
      await page.click('button:has-text("Confirm details")');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('confirmed'));
      // The directory finds the person as one types.
      await page.click('nav >> text=Focal points');
      await page.waitForSelector('main h1:text("Focal-point directory")');
      await page.fill('input[name=q]', 'okaf');
      await page.waitForFunction(() => {
        const cards = [...document.querySelectorAll('.fp-results .fp')];
        return cards.length === 1 && cards[0].textContent.includes('Ibrahim Okafor');
      });
      await assertClean(page, '06-directory-search');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click('.fp-results button:has-text("vCard")'),
      ]);
      const vcard = readFileSync(await download.path(), 'utf8');
      assert.match(vcard, /BEGIN:VCARD/);
      assert.match(vcard, /Ibrahim Okafor/);
      // The dashboard now shows the focal point.
      await page.click('nav >> text=Dashboard');
      await page.waitForSelector('text=UNODC dashboard');
      assert.match(await page.textContent('main'), /Ibrahim Okafor/);
      await page.context().close();
    });

    test('an editor reviews a duplicate pair and it leaves the open cases', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.click('nav >> text=Duplicates');
      await page.waitForSelector('main h1:text("Duplicate report")');
      const cluster = page.locator('.cluster', { hasText: 'Training of border officials' });
      await cluster.waitFor();
      assert.match(await cluster.textContent(), /UNODC/);
      assert.match(await cluster.textContent(), /ILO/);
      await assertClean(page, '07-duplicates');
      // No verdict is preselected: saving without one says so and saves nothing.
      assert.equal(await cluster.locator('select[name=decision]').first().inputValue(), '');
      await cluster.locator('button:text("Save the review")').first().click();
      await cluster.locator('.field-error:text("Choose a verdict before saving.")').first().waitFor();
      assert.match(await cluster.textContent(), /UNODC/);
      // "Not a duplicate" closes the case for good: it asks first, and Cancel saves nothing.
      await cluster.locator('select[name=decision]').first().selectOption('not_duplicate');
      await cluster.locator('button:text("Save the review")').first().click();
      await page.waitForSelector('dialog[open]');
      assert.match(await page.textContent('dialog'), /The case closes for good/);
      await page.click('dialog button:text("Cancel")');
      await page.waitForSelector('dialog', { state: 'detached' });
      assert.equal((await page.textContent('#status')).includes('Review saved'), false);
      await cluster.locator('select[name=decision]').first().selectOption('coordinated');
      await cluster.locator('input[name=note]').first().fill('Joint workshops agreed with ILO');
      await cluster.locator('button:text("Save the review")').first().click();
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('Review saved'));
      // The page reloads the open cases, which the pair has left (waiting for that also keeps the
      // filter below from being set on the page the reload replaces).
      await cluster.waitFor({ state: 'detached' });
      // Reviewed pairs show under "Reviewed" with the decision.
      await page.selectOption('select[name=status]', 'reviewed');
      await page.click('button:text("Apply")');
      await page.waitForSelector('.review-state');
      assert.match(await page.textContent('.review-state'), /Coordinated/);
      await page.context().close();
    });

    test('the other agency reads the match and the review in its inbox; e-mail choices; the secretariat reminds', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.ilo.email);
      // UNODC's near-copy and UNODC's review both concern ILO: two unread notices in the header.
      await page.waitForFunction(() => document.querySelector('#inbox-link .count-badge:not([hidden])')?.textContent.startsWith('2'));
      assert.match(await page.textContent('#inbox-link'), /Inbox\s*2, 2 unread/);
      await page.click('#inbox-link');
      await page.waitForSelector('main h1:text("Inbox")');
      const notices = page.locator('.notice.unread');
      assert.equal(await notices.count(), 2);
      const text = await page.textContent('.notices');
      assert.match(text, /UNODC recorded “Training border officials to identify trafficking victims in Nigeria”, a (likely|possible) duplicate of your activity “Training of border officials/);
      assert.match(text, /UNODC reviewed the pair of your activity “Training of border officials[^”]*” and “[^”]*”: Coordinated\./);
      // Each title links to its activity.
      assert.equal(await page.getAttribute(`.notices a:text("Training of border officials on identifying victims of trafficking in Nigeria") >> nth=0`, 'href'), `#/activities/${ids.iloActivity}`);
      await assertClean(page, '09a-inbox');
      await page.click('button:text("Mark all as read")');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('2 notices marked as read'));
      await page.waitForSelector('#inbox-link .count-badge', { state: 'hidden' });
      await page.waitForFunction(() => document.querySelectorAll('.notice').length === 2 && !document.querySelector('.notice.unread'));
      // The e-mail choices, on the account page, in French too.
      await visit(page, '#/account', 'My account');
      await page.selectOption('select[name=email]', 'daily');
      await page.check('input[name=overlaps]');
      await page.click('form:has(select[name=email]) button[type=submit]');
      await page.waitForFunction(() => document.getElementById('status').textContent.includes('e-mail choices are saved'));
      await page.reload();
      await page.waitForSelector('main h1:text("My account")');
      await page.waitForSelector('select[name=email]');
      assert.equal(await page.inputValue('select[name=email]'), 'daily');
      assert.equal(await page.isChecked('input[name=overlaps]'), true);
      await assertClean(page, '09b-account-notices');
      await page.selectOption('#lang', 'fr');
      await visit(page, '#/notifications', 'Avis');
      assert.match(await page.textContent('.notices'), /UNODC a enregistré « Training border officials/);
      await assertClean(page, '09c-inbox-fr');
      await page.selectOption('#lang', 'en');
      await page.context().close();
      // The secretariat sends the reminders and reads each e-mail's state (none without a mail server).
      const adminPage = await newPage(browser, server.base);
      await signIn(adminPage, ADMIN.email, ADMIN.password);
      await adminPage.click('nav >> text=E-mail');
      await adminPage.waitForSelector('main h1:text("E-mail and reminders")');
      assert.match(await adminPage.textContent('main'), /No e-mail yet/);
      await adminPage.fill('textarea[name=note]', 'Before the March meeting, please.');
      await adminPage.click('button:text("Send the reminders")');
      await adminPage.click('dialog button:text("Send the reminders")');
      await adminPage.waitForSelector('text=members reminded');
      const reminded = await adminPage.textContent('main table');
      assert.match(reminded, /IOM/, 'IOM has no focal point');
      assert.doesNotMatch(reminded, /\bILO\b/, 'ILO has a focal point and an activity');
      await assertClean(adminPage, '09d-mail-and-reminders');
      await adminPage.context().close();
    });

    test('a forgotten password: self-service says it is off without a mail server; the secretariat hands over a link that works once', async () => {
      const email = 'forgetful@unodc.example';
      const created = await api.call('POST', '/api/v1/users', {
        email, name: 'Forgetful Editor', role: 'editor', agency_id: ids.UNODC, password: PASSWORD,
      }, admin);
      assert.equal(created.status, 201, JSON.stringify(created.data));
      const page = await newPage(browser, server.base);
      await page.goto('/#/login');
      await page.click('text=Forgot your password?');
      await page.waitForSelector('main h1:text("Choose a new password")');
      await page.fill('input[name=email]', email);
      await page.click('button:text("Send me the link")');
      await page.waitForSelector('.problem:not([hidden])');
      assert.match(await page.textContent('.problem'), /Self-service reset is off in this workspace/);
      await assertClean(page, '09e-reset-request');
      await page.context().close();

      const adminPage = await newPage(browser, server.base);
      await signIn(adminPage, ADMIN.email, ADMIN.password);
      await visit(adminPage, `#/admin/users/${created.data.id}`, email);
      await adminPage.click('button:text("Make a reset link")');
      await adminPage.waitForSelector('input[name=reset_url]');
      const url = await adminPage.inputValue('input[name=reset_url]');
      assert.match(url, /#\/reset\?token=/);
      await assertClean(adminPage, '09f-reset-link');
      await adminPage.context().close();

      const owner = await newPage(browser, server.base);
      await owner.goto(`/${url.slice(url.indexOf('#'))}`);
      await owner.waitForSelector('main h1:text("Choose your new password")');
      await owner.fill('input[name=new_password]', 'a brand new passphrase for spring');
      await owner.fill('input[name=new_password_again]', 'a brand new passphrase for spring');
      await owner.click('button:text("Set the new password")');
      await owner.waitForSelector('form input[name=email]');
      assert.match(await owner.textContent('#status'), /Your new password is set/);
      await signIn(owner, email, 'a brand new passphrase for spring');
      // The link worked once.
      await owner.goto(`/${url.slice(url.indexOf('#'))}`);
      await owner.waitForSelector('main h1:text("Choose your new password")');
      await owner.fill('input[name=new_password]', 'yet another passphrase for autumn');
      await owner.fill('input[name=new_password_again]', 'yet another passphrase for autumn');
      await owner.click('button:text("Set the new password")');
      await owner.waitForSelector('.problem:not([hidden])');
      assert.match(await owner.textContent('.problem'), /This link is not valid, was used already or has expired/);
      await owner.context().close();
    });

    test('with the keyboard alone: navigate, record an activity, find a focal point', async () => {
      const page = await newPage(browser, server.base, { locale: 'en-US' });
      await signIn(page, users.unodc.email);
      // Tab until the focused element matches; fails if it never does (a keyboard trap or a missing stop).
      const tabTo = async (selector, max = 60) => {
        for (let i = 0; i < max; i += 1) {
          await page.keyboard.press('Tab');
          if (await page.evaluate((sel) => document.activeElement?.matches(sel), selector)) return;
        }
        throw new Error(`Tab never reached ${selector}`);
      };
      const focusVisible = () => page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== 'none');
      await tabTo('nav a[href="#/activities/new"]');
      assert.ok(await focusVisible(), 'the focused link shows a focus ring');
      await page.keyboard.press('Enter');
      await page.waitForSelector('main h1:text("Record an activity")');
      assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'the new page’s heading takes focus');
      await tabTo('input[name=title]');
      await page.keyboard.type('Shelter standards for child victims of trafficking in Thailand');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Minimum standards and inspections for shelters hosting child victims.');
      await tabTo('input[name=countries]');
      await page.keyboard.type('Thailand');
      await page.keyboard.press('Enter');
      await page.keyboard.type('Laos');
      await page.keyboard.press('Enter');
      assert.match(await page.textContent('ul.chips'), /Thailand.*Laos/s);
      // A chip can be removed with the keyboard too.
      await tabTo('button.chip-remove[aria-label="Remove Laos (LA)"]');
      await page.keyboard.press('Enter');
      assert.doesNotMatch(await page.textContent('ul.chips'), /Laos/);
      await tabTo('input[name=start_date]');
      await page.keyboard.type('03012027');
      await tabTo('input[name=end_date]');
      await page.keyboard.type('12312027');
      assert.equal(await page.inputValue('input[name=start_date]'), '2027-03-01');
      await tabTo('input[name=themes][value=protection]');
      await page.keyboard.press('Space');
      await tabTo('input[name=sdg_targets][value="16.2"]');
      await page.keyboard.press('Space');
      await tabTo('button[type=submit]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#matches-title');
      assert.match(await page.textContent('main h1'), /Shelter standards for child victims/);
      assert.match(await page.textContent('dl.facts'), /Thailand/);
      assert.match(await page.textContent('dl.facts'), /16\.2/);
      // To the directory and a focal point's vCard.
      await tabTo('nav a[href="#/directory"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('main h1:text("Focal-point directory")');
      await tabTo('input[name=q]');
      await page.keyboard.type('fernandez');
      await page.waitForFunction(() => document.querySelectorAll('.fp-results .fp').length === 1);
      await tabTo('.fp-results button.link');
      const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
      assert.match(readFileSync(await download.path(), 'utf8'), /Lucía Fernández/);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });

    test('activities list: filters, search, CSV import with a dry-run preview, CSV export', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.click('nav >> text=Activities');
      await page.waitForSelector('main h1:text("Activities")');
      await page.fill('input[name=q]', 'border officials');
      await page.selectOption('select[name=agency]', 'ILO');
      await page.click('button:text("Apply")');
      await page.waitForFunction(() => location.hash.includes('agency=ILO'));
      await page.waitForSelector('text=1 result');
      assert.match(await page.textContent('table'), /Training of border officials/);
      await assertClean(page, '08-activities-list');
      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button:text("Export CSV")')]);
      const exported = readFileSync(await csv.path(), 'utf8');
      assert.match(exported, /#activity/i, 'the HXL hashtag row is there');
      assert.match(exported, /Training of border officials/);
      await page.click('a:text("Import CSV")');
      await page.waitForSelector('main h1:text("Import activities")');
      const good = 'title,description,countries,themes,start_date,end_date\nVictim shelter capacity review,Review of shelter places for victims,TH,protection,2027-01-01,2027-12-31\n';
      await page.fill('textarea[name=csv]', `${good}Broken row,Dates reversed,XX,protection,2027-01-01,2026-01-01\n`);
      await page.click('button:text("Preview (dry run)")');
      await page.waitForSelector('.import-outcome table');
      const errors = await page.textContent('.import-outcome table');
      assert.match(errors, /countries/);
      assert.match(errors, /end_date/);
      assert.equal(await page.isDisabled('button:text("Import")'), true, 'an invalid file cannot be imported');
      await assertClean(page, '09-import-errors');
      await page.fill('textarea[name=csv]', good);
      await page.click('button:text("Preview (dry run)")');
      await page.waitForSelector('text=1 would be created');
      await page.click('button:text("Import")');
      await page.waitForSelector('.import-outcome >> text=Imported: 1 created');
      const listed = await api.call('GET', '/api/v1/activities?q=shelter%20capacity', undefined, admin);
      assert.equal(listed.data.total, 1, 'the imported activity is in the log');
      await page.context().close();
    });

    test('the interface switches to French and back, and signing out ends the session', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.click('nav >> text=Activities');
      await page.waitForSelector('main h1:text("Activities")');
      assert.match(await page.textContent('main table'), /1 Mar 2027/, 'English dates day first, as the UN writes them');
      await page.click('nav >> text=Dashboard');
      await page.waitForFunction(() => /dashboard/i.test(document.querySelector('main h1')?.textContent));
      await page.selectOption('#lang', 'fr');
      await page.waitForSelector('nav >> text=Tableau de bord');
      assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      // The page redraws in French once its data is back.
      await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Tableau de bord : UNODC');
      await page.click('nav >> text=Activités');
      await page.waitForSelector('main h1:text("Activités")');
      assert.match(await page.textContent('main table'), /1 mars 2027/, 'dates in French');
      await assertClean(page, '10-french-activities');
      await page.click('nav >> text=Enregistrer');
      await page.waitForSelector('main h1:text("Enregistrer une activité")');
      await page.fill('input[name=title]', 'ab');
      await page.fill('input[name=start_date]', '2027-05-01');
      await page.fill('input[name=end_date]', '2027-04-01');
      await page.click('button:text("Enregistrer l’activité")');
      await page.waitForSelector('.problem:not([hidden])');
      assert.match(await page.textContent('.problem'), /Veuillez corriger/);
      // Every rule the server names by its code is worded in French beside its field, with its
      // parameters (the other field by its French label); none of the server's English shows.
      assert.equal(await page.textContent('.field[data-name=title] .field-error'), 'doit compter au moins 5 caractères');
      assert.equal(await page.textContent('.field[data-name=end_date] .field-error'), 'ne doit pas précéder le champ « Date de début »');
      assert.equal(await page.textContent('.field[data-name=description] .field-error'), 'est obligatoire');
      assert.doesNotMatch(await page.textContent('main'), /must |characters|start_date/);
      // Every required field is marked; the summary's items lead to their fields; the themes'
      // error is tied to each of its boxes.
      for (const name of ['title', 'description', 'countries', 'themes', 'start_date', 'end_date']) {
        assert.equal(await page.locator(`.field[data-name=${name}] .req`).count(), 1, `${name} marked required`);
      }
      await page.click('.problem a:text-matches("^Titre")');
      assert.equal(await page.evaluate(() => document.activeElement.name), 'title');
      assert.match(page.url(), /#\/activities\/new/, 'the link focuses, the route stays');
      const themesError = await page.getAttribute('.field[data-name=themes] .field-error', 'id');
      assert.equal(await page.getAttribute('.field[data-name=themes] input[value=prevention]', 'aria-describedby'), themesError);
      assert.equal(await page.textContent(`#${themesError}`), 'est obligatoire');
      await shot(page, `${tag}11-french-form-errors`);
      // Switching the language keeps what was typed, chosen and picked.
      await page.fill('input[name=title]', 'Formation des juges au Nigeria');
      await page.check('.field[data-name=themes] input[value=protection]');
      await page.fill('input[name=countries]', 'Nigeria');
      await page.press('input[name=countries]', 'Enter');
      await page.selectOption('#lang', 'es');
      await page.waitForSelector('main h1:text("Registrar una actividad")');
      assert.equal(await page.inputValue('input[name=title]'), 'Formation des juges au Nigeria');
      assert.equal(await page.inputValue('input[name=start_date]'), '2027-05-01');
      assert.ok(await page.isChecked('.field[data-name=themes] input[value=protection]'));
      assert.match(await page.textContent('.field[data-name=countries] ul.chips'), /Nigeria/);
      await page.selectOption('#lang', 'fr');
      await page.waitForSelector('main h1:text("Enregistrer une activité")');
      assert.equal(await page.inputValue('input[name=title]'), 'Formation des juges au Nigeria');
      // The choice is remembered; switch back for the next tests.
      await page.reload();
      await page.waitForSelector('nav >> text=Tableau de bord');
      await page.selectOption('#lang', 'en');
      await page.waitForSelector('nav >> text=Dashboard');
      await page.click('#sign-out');
      await page.waitForSelector('main h1:text("Sign in")');
      assert.match(await page.textContent('#status'), /You are signed out/);
      await page.goto('/#/activities');
      await page.waitForSelector('main h1:text("Sign in")');
      assert.match(page.url(), /#\/login\?next=/);
      // The notice spoke to the user who left: whoever signs in next does not see it.
      await page.fill('input[name=email]', users.unodc.email);
      await page.fill('input[name=password]', PASSWORD);
      await page.press('input[name=password]', 'Enter');
      await page.waitForSelector('main h1:text("Activities")');
      assert.equal((await page.textContent('#status')).trim(), '');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });

    test('the interface speaks Spanish: pages, dates, form errors and the inbox', async () => {
      // A browser set to Spanish gets the interface in Spanish from the start.
      const page = await newPage(browser, server.base, { locale: 'es-ES' });
      await page.goto('/');
      await page.waitForSelector('main h1:text("Iniciar sesión en el espacio de trabajo del ICAT")');
      assert.equal(await page.getAttribute('html', 'lang'), 'es');
      await page.fill('input[name=email]', users.ilo.email);
      await page.fill('input[name=password]', PASSWORD);
      await page.press('input[name=password]', 'Enter');
      await page.waitForSelector('nav >> text=Panel');
      await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Panel de ILO');
      await assertClean(page, '12-spanish-dashboard');
      await page.click('nav >> text=Actividades');
      await page.waitForSelector('main h1:text("Actividades")');
      assert.match(await page.textContent('main table'), /1 feb 2027/, 'dates in Spanish');
      await assertClean(page, '12b-spanish-activities');
      await page.click('nav >> text=Registrar');
      await page.waitForSelector('main h1:text("Registrar una actividad")');
      await page.fill('input[name=title]', 'ab');
      await page.fill('input[name=start_date]', '2027-05-01');
      await page.fill('input[name=end_date]', '2027-04-01');
      await page.click('button:text("Guardar la actividad")');
      await page.waitForSelector('.problem:not([hidden])');
      assert.match(await page.textContent('.problem'), /Corrija lo siguiente/);
      assert.equal(await page.textContent('.field[data-name=title] .field-error'), 'debe tener al menos 5 caracteres');
      assert.equal(await page.textContent('.field[data-name=end_date] .field-error'), 'no debe ser anterior al campo «Fecha de inicio»');
      assert.doesNotMatch(await page.textContent('main'), /must |characters|start_date/);
      await shot(page, `${tag}12c-spanish-form-errors`);
      // The reasons of a match, in Spanish, with names instead of codes.
      await page.goto(`/#/activities/${ids.iloActivity}`);
      await page.waitForSelector('.matches .reasons');
      const razones = await page.textContent('.matches .reasons');
      assert.match(razones, /mismos países: Nigeria/);
      assert.match(razones, /temas en común: Protección/);
      assert.doesNotMatch(razones, /same countries|in common/);
      await page.click('#inbox-link');
      await page.waitForSelector('main h1:text("Avisos")');
      assert.match(await page.textContent('.notices'), /UNODC registró «Training border officials/);
      await assertClean(page, '12d-spanish-inbox');
      // A complaint the page raises itself keeps its Spanish words beside the field.
      await page.goto('/#/account');
      await page.waitForSelector('main h1:text("Mi cuenta")');
      await page.fill('input[name=current_password]', PASSWORD);
      await page.fill('input[name=new_password]', 'one long and quiet passphrase');
      await page.fill('input[name=new_password_again]', 'another long and quiet passphrase');
      await page.click('main button:text("Cambiar la contraseña")');
      await page.waitForSelector('.field[data-name=new_password_again] .field-error:not([hidden])');
      assert.equal(await page.textContent('.field[data-name=new_password_again] .field-error'), 'las dos contraseñas nuevas no coinciden');
      await page.selectOption('#lang', 'en');
      await page.waitForSelector('nav >> text=Dashboard');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });

    test('the map shades the countries with work, and a country’s timeline shows each activity once with its links, by keyboard, in three languages', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.ilo.email);
      await page.click('nav >> text=Map');
      await page.waitForSelector('main h1:text("Where the work is")');
      // Today nothing may run; a period with the recorded work (the same heading: wait for its figures).
      await page.goto('/#/map?from=2027-01-01&to=2027-12-31');
      await page.waitForFunction(() => /31 Dec 2027/.test(document.querySelector('main figcaption')?.textContent || ''));
      const shade = (code) => page.getAttribute(`path[data-country=${code}]`, 'class');
      assert.match(await shade('NG'), /shade-[1-5]/);
      assert.match(await shade('FR'), /shade-0/);
      assert.match(await page.textContent('main table'), /Nigeria/);
      await assertClean(page, '13-map');
      await page.click('main table a:text("Nigeria")');
      await page.waitForSelector('main h1:text("Nigeria")');
      const bars = await page.$$eval('svg.timeline a.bar-link', (as) => as.map((a) => a.dataset.activity));
      assert.ok(bars.length >= 2, `bars: ${bars}`);
      assert.equal(new Set(bars).size, bars.length, 'each activity once');
      assert.equal(await page.locator('main table').first().locator('tbody tr').count(), bars.length, 'the table has the same activities');
      assert.ok(bars.includes(ids.iloActivity) && bars.includes(ids.unodcActivity));
      const pairs = await page.$$eval('svg.timeline line.pair', (ls) => ls.map((l) => l.dataset.pair));
      assert.ok(pairs.some((p) => p.includes(ids.iloActivity) && p.includes(ids.unodcActivity)), `pairs: ${pairs}`);
      assert.match(await page.textContent('main'), /Lucía Fernández/, 'ILO’s focal point beside its row');
      await assertClean(page, '14-country-timeline');
      // By keyboard: Tab reaches a bar, Enter opens its activity.
      let reached = false;
      for (let i = 0; i < 40 && !reached; i += 1) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => document.activeElement?.classList.contains('bar-link'));
      }
      assert.ok(reached, 'a bar takes the focus');
      await page.keyboard.press('Enter');
      await page.waitForURL(/#\/activities\//);
      for (const [lang, heading, lead] of [['fr', 'Nigeria', /Les activités de chaque organisme en Nigeria/], ['es', 'Nigeria', /Las actividades de cada organismo en Nigeria/]]) {
        await page.selectOption('#lang', lang);
        await page.goto('/#/countries/NG');
        await page.waitForFunction((source) => new RegExp(source).test(document.querySelector('main .lead')?.textContent || ''), lead.source);
        assert.equal(await page.textContent('main h1'), heading);
        await assertClean(page, `14-country-timeline-${lang}`);
      }
      await page.selectOption('#lang', 'en');
      await visit(page, '#/countries/FR', 'France');
      assert.match(await page.textContent('main'), /No activity in France in this period/);
      await page.context().close();
      const phone = await newPage(browser, server.base, { width: 360, height: 780 });
      await signIn(phone, users.ilo.email);
      await phone.goto('/#/map?from=2027-01-01&to=2027-12-31');
      await phone.waitForFunction(() => /31 Dec 2027/.test(document.querySelector('main figcaption')?.textContent || ''));
      await assertClean(phone, '15-phone-map');
      await visit(phone, '#/countries/NG', 'Nigeria');
      await assertClean(phone, '15b-phone-country');
      await phone.context().close();
    });

    test('an admin creates a user, edits a member, and reads the reports and the audit trail', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, ADMIN.email, ADMIN.password);
      await page.waitForSelector('text=Secretariat dashboard');
      await assertClean(page, '12-dashboard-admin');
      await page.click('nav >> text=Users');
      await page.waitForSelector('main h1:text("User accounts")');
      await page.fill('form input[name=email]', 'new.editor@unhcr.example');
      await page.fill('form input[name=name]', 'Nadia New');
      await page.selectOption('form select[name=role]', 'editor');
      // An editor without an agency is refused before anything is sent.
      assert.equal(await page.inputValue('form select[name=agency_id]'), '');
      await page.fill('form input[name=password]', PASSWORD);
      await page.click('button:text("Create the account")');
      await page.waitForSelector('.field-error:text("Editors and viewers belong to an agency.")');
      await page.selectOption('form select[name=agency_id]', ids.IOM);
      await page.fill('form input[name=password]', 'password12345');
      await page.click('button:text("Create the account")');
      await page.waitForSelector('.problem:not([hidden])');
      // zxcvbn's reason, in its words, beside the field and in the summary.
      assert.match(await page.textContent('.problem'), /Initial password: is too easy to guess\. \S/, 'a weak password is refused with a reason');
      assert.match(await page.textContent('.field[data-name=password] .field-error'), /too easy to guess/);
      await page.fill('form input[name=password]', 'Nadia New, 2027');
      await page.click('button:text("Create the account")');
      await page.waitForSelector('.field-error:text("must not contain your e-mail address or name")');
      await page.fill('form input[name=password]', FIRST_PASSWORD);
      await page.click('button:text("Create the account")');
      await page.waitForSelector('td:text("new.editor@unhcr.example")');
      // The message sits in the page's flow, above the content it speaks of, never over a cell.
      assert.match(await page.textContent('#status'), /new.editor@unhcr.example/);
      const said = await page.locator('#status').boundingBox();
      const cells = await page.locator('main table').first().boundingBox();
      assert.ok(said.y + said.height <= cells.y, `message ${JSON.stringify(said)} above the table ${JSON.stringify(cells)}`);
      await assertClean(page, '13-users');
      // The new account signs in with the password it was given and must choose its own first:
      // no menu, no other page, and the API refuses anything else meanwhile.
      const nadia = await newPage(browser, server.base);
      await nadia.goto('/#/activities');
      await nadia.waitForSelector('form input[name=email]');
      await nadia.fill('input[name=email]', 'new.editor@unhcr.example');
      await nadia.fill('input[name=password]', FIRST_PASSWORD);
      await nadia.press('input[name=password]', 'Enter');
      await nadia.waitForSelector('main h1:text("Choose your own password")');
      assert.equal(await nadia.locator('nav a').count(), 0, 'no page to go to before the password is chosen');
      await nadia.goto('/#/directory');
      await nadia.waitForSelector('main h1:text("Choose your own password")');
      await assertClean(nadia, '13b-first-password');
      await nadia.fill('input[name=current_password]', FIRST_PASSWORD);
      await nadia.fill('input[name=new_password]', FIRST_PASSWORD);
      await nadia.fill('input[name=new_password_again]', FIRST_PASSWORD);
      await nadia.click('main button:text("Change password")');
      await nadia.waitForSelector('.field[data-name=new_password] .field-error:text("must differ from your current password")');
      await nadia.fill('input[name=current_password]', FIRST_PASSWORD);
      await nadia.fill('input[name=new_password]', PASSWORD);
      await nadia.fill('input[name=new_password_again]', PASSWORD);
      await nadia.click('main button:text("Change password")');
      await nadia.waitForSelector('main h1:text("Directory")');
      assert.match(await nadia.textContent('#status'), /Your password is set/);
      assert.ok(await nadia.locator('nav a').count() >= 5, 'the menu is back');
      assert.deepEqual(nadia.errors, []);
      await nadia.context().close();
      // Edit a member of the registry.
      await page.click('nav >> text=Members');
      await page.waitForSelector('main h1:text("Member agencies")');
      await page.click('a:has-text("Edit"):has(span:text(" OSCE"))');
      await page.waitForSelector('main h1:text("Edit OSCE")');
      await page.check('input[name=working_group]');
      await page.click('button:text("Save changes")');
      await page.waitForSelector('main h1:text("Member agencies")');
      const osce = await api.call('GET', '/api/v1/agencies/OSCE', undefined, admin);
      assert.equal(osce.data.working_group, true);
      await assertClean(page, '14-agencies');
      await page.click('nav >> text=Reports');
      await page.waitForSelector('main h1:text("Reports")');
      assert.ok(await page.locator('svg.chart').count() >= 4, 'charts are drawn');
      assert.equal(await page.getAttribute('svg.chart >> nth=0', 'aria-hidden'), 'true');
      assert.ok(await page.locator('.chart-data table').count() >= 4, 'each chart has its numbers as a table');
      assert.match(await page.textContent('main'), /Participation/);
      const covered = await page.textContent('main p.lead >> text=/primary focal point/');
      const [, withPrimary] = /^(\d+) of \d+ members/.exec(covered) || [];
      assert.match(covered, Number(withPrimary) === 1 ? /members has a/ : /members have a/, covered);
      await assertClean(page, '15-reports');
      // Counts agree with their noun in every language (Intl.PluralRules picks the form).
      const worded = await page.evaluate(async () => {
        const { t, setLang } = await import('/js/i18n.js');
        const out = [];
        for (const language of ['fr', 'es', 'en']) {
          setLang(language);
          for (const n of [1, 2]) out.push(t('coverage_lead', { count: n, with: n, total: 13 }));
        }
        return out;
      });
      assert.deepEqual(worded, [
        '1 membre sur 13 a un point focal principal.', '2 membres sur 13 ont un point focal principal.',
        '1 de 13 miembros tiene un punto focal principal.', '2 de 13 miembros tienen un punto focal principal.',
        '1 of 13 members has a primary focal point.', '2 of 13 members have a primary focal point.',
      ]);
      await page.waitForSelector('nav >> text=Dashboard');
      // How pairs are scored: the match model, from the duplicate report.
      await page.click('nav >> text=Duplicates');
      await page.waitForSelector('main h1:text("Duplicate report")');
      await page.click('a:text("How pairs are scored")');
      await page.waitForSelector('main h1:text("The match model")');
      assert.match(await page.textContent('main'), /model the software ships with/, 'a young workspace scores with the shipped model');
      assert.match(await page.textContent('main'), /From 90% a pair is a duplicate/);
      assert.ok(await page.locator('main table').count() >= 10, 'every comparison has its table of weights');
      await assertClean(page, '15b-match-model');
      await page.click('nav >> text=Audit trail');
      await page.waitForSelector('main h1:text("Audit trail")');
      await page.fill('input[name=action]', 'login');
      await page.click('button:text("Apply")');
      await page.waitForFunction(() => location.hash.includes('action=login'));
      await page.waitForSelector('td:text("login")');
      await assertClean(page, '16-audit');
      await page.context().close();
    });

    test('a viewer sees no write buttons, and a forced write gets an error and changes nothing', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.viewer.email);
      assert.equal(await page.locator('nav >> text=Record').count(), 0);
      await page.goto(`/#/activities/${ids.iloActivity}`);
      await page.waitForSelector('#matches-title');
      assert.equal(await page.locator('main a:text("Edit"), main button:text("Archive")').count(), 0);
      await page.goto('/#/agencies/IOM');
      await page.waitForSelector('main h1:has-text("IOM")');
      assert.equal(await page.locator('main >> text=Designate a focal point').count(), 0);
      assert.equal(await page.locator('main button:text("End designation")').count(), 0);
      await page.goto('/#/duplicates?status=all');
      await page.waitForSelector('main h1:text("Duplicate report")');
      assert.equal(await page.locator('form.review').count(), 0, 'no review forms for a viewer');
      await page.goto('/#/activities/new');
      await page.waitForSelector('main h1:text("Not allowed")');
      await assertClean(page, '17-viewer-forbidden');
      // Forcing it: the page's own API module, with the viewer's session, tries to write.
      const before = (await api.call('GET', '/api/v1/activities', undefined, admin)).data.total;
      const forced = await page.evaluate(async () => {
        const { post } = await import('/js/api.js');
        try {
          await post('/api/v1/activities', { title: 'Forced', description: '', countries: ['NG'], themes: [], sdg_targets: [], target_groups: [], partners: [], start_date: '2027-01-01', end_date: '2027-02-01' });
          return 'saved';
        } catch (e) { return `${e.status} ${e.code}`; }
      });
      assert.equal(forced, '403 forbidden');
      const after = (await api.call('GET', '/api/v1/activities', undefined, admin)).data.total;
      assert.equal(after, before, 'nothing was recorded');
      await page.context().close();
    });

    test('archiving from the activity page asks first, then removes it from the list', async () => {
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await page.goto(`/#/activities/${ids.unodcActivity}`);
      await page.waitForSelector('#matches-title');
      await page.click('main button:text("Archive")');
      await page.waitForSelector('dialog[open]');
      await page.keyboard.press('Escape'); // the dialog closes: nothing archived
      await page.waitForSelector('dialog', { state: 'detached' });
      assert.equal((await api.call('GET', `/api/v1/activities/${ids.unodcActivity}`, undefined, admin)).status, 200);
      await page.click('main button:text("Archive")');
      await page.click('dialog button:text("Archive")');
      await page.waitForSelector('main h1:text("Activities")');
      assert.equal((await api.call('GET', `/api/v1/activities/${ids.unodcActivity}`, undefined, admin)).status, 404);
      await page.context().close();
    });

    test('on a phone’s width every page fits and the record form stacks', async () => {
      // A fresh match for ILO, so its inbox has something unread.
      const iom = await api.call('POST', '/api/v1/activities', {
        agency_id: ids.IOM, title: 'Training for border officials on identifying trafficking victims in Nigeria', description: 'Workshops for border and immigration officers in Lagos and Kano on trafficking indicators and referral.',
        countries: ['NG'], themes: ['protection'], start_date: '2027-02-15', end_date: '2027-06-30',
      }, admin);
      assert.equal(iom.status, 201, JSON.stringify(iom.data));
      const page = await newPage(browser, server.base, { width: 390, height: 844 });
      await signIn(page, users.ilo.email);
      // A compact header: the pages wait behind a menu button, which opens them and closes again
      // once one is chosen. The button shows the unread count that the inbox link behind it holds.
      const header = await page.locator('header.top').boundingBox();
      assert.ok(header.height < 90, `header ${header.height}px high`);
      await page.waitForSelector('#menu-unread:not([hidden])');
      assert.match(await page.textContent('#menu-toggle'), /Menu\s*\d+, \d+ unread/);
      assert.equal(await page.textContent('#menu-unread'), await page.textContent('#inbox-link .count-badge'));
      assert.equal(await page.isVisible('#nav'), false);
      await page.click('#menu-toggle');
      assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'true');
      await page.click('#nav >> text=Focal points');
      await page.waitForSelector('main h1:text("Focal-point directory")');
      assert.equal(await page.isVisible('#nav'), false);
      assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'false');
      for (const [hash, h1, name] of [
        ['#/', 'ILO dashboard', '18-phone-dashboard'],
        ['#/activities/new', 'Record an activity', '19-phone-record'],
        ['#/directory', 'Focal-point directory', '20-phone-directory'],
        ['#/duplicates?status=all', 'Duplicate report', '21-phone-duplicates'],
        ['#/notifications', 'Inbox', '21b-phone-inbox'],
        ['#/account', 'My account', '21c-phone-account'],
      ]) {
        await visit(page, hash, h1);
        await page.waitForTimeout(300);
        await assertClean(page, name);
      }
      await page.context().close();
    });

    test('the overlap view groups work by country and theme, shows the closest pairs and links to the rest', async () => {
      // Different work of three agencies in one country, theme and period: every cross-agency pair
      // is an overlap, all in the group "TZ partnerships" (Tanzania · Partnerships).
      const works = [
        ['unodc', 'Case management software for prosecutors', 'A case tracking system for the prosecution service.'],
        ['unodc', 'Study visit of judges to regional courts', 'Exchange of practice on sentencing in trafficking cases.'],
        ['ilo', 'Fair recruitment campaign in fishing villages', 'Radio spots and village meetings on recruitment fees.'],
        ['ilo', 'Labour inspectorate data system', 'Digital records for labour inspections of plantations.'],
      ];
      let recorded = 0;
      for (const [who, title, description] of works) {
        const session = await api.login(users[who].email, PASSWORD);
        const r = await api.call('POST', '/api/v1/activities', {
          title, description, countries: ['TZ'], themes: ['partnerships'], start_date: '2029-01-01', end_date: '2029-12-31',
        }, session);
        assert.equal(r.status, 201, JSON.stringify(r.data));
        recorded += 1;
      }
      assert.equal(recorded, 4);
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await visit(page, '#/duplicates?level=overlap&status=all', 'Duplicate report');
      const group = page.locator('.cluster', { hasText: 'Tanzania · Partnerships' });
      await group.waitFor();
      // Two UNODC x two ILO activities: four pairs, the three closest shown.
      assert.match(await group.textContent(), /The 3 closest pairs of 4\./);
      assert.equal(await group.locator('.pair').count(), 3);
      await assertClean(page, '22-overlap-groups');
      await group.locator('a:has-text("All activities in")').click();
      await page.waitForFunction(() => location.hash.startsWith('#/activities') && location.hash.includes('country=TZ') && location.hash.includes('theme=partnerships'));
      await page.waitForSelector('text=4 results');
      await page.context().close();
    });

    test('the activity list pages on with the cursor and back by number', async () => {
      const unodc = await api.login(users.unodc.email, PASSWORD);
      for (let day = 1; day <= 27; day += 1) {
        const r = await api.call('POST', '/api/v1/activities', {
          title: `Paging course for labour inspectors, group ${day}`, description: 'Inspection of recruitment agencies.',
          countries: ['KE'], themes: ['prevention'], start_date: `2028-03-${String(day).padStart(2, '0')}`, end_date: '2028-12-31',
        }, unodc);
        assert.equal(r.status, 201, JSON.stringify(r.data));
      }
      const page = await newPage(browser, server.base);
      await signIn(page, users.unodc.email);
      await visit(page, '#/activities?q=paging', 'Activities');
      await page.waitForSelector('text=27 results');
      assert.match(await page.textContent('table'), /group 27/, 'newest start first');
      await page.click('nav.pager button:text("Next")');
      await page.waitForFunction(() => location.hash.includes('after=') && location.hash.includes('page=2'));
      await page.waitForSelector('nav.pager >> text=/Page 2 of 2/i');
      assert.equal(await page.locator('tbody tr').count(), 2, 'the last two on page 2');
      assert.match(await page.textContent('table'), /group 1(?!\d)/);
      await page.click('nav.pager button:text("Previous")');
      await page.waitForFunction(() => !location.hash.includes('after=') && location.hash.includes('page=1'));
      await page.waitForSelector('text=/group 27/');
      assert.equal(await page.locator('tbody tr').count(), 25);
      await page.context().close();
    });

    // Every page each role can open, in each language, at a phone's 360 px and at desktop width:
    // our checks (labels, one h1, no sideways scrolling, no leaked `undefined`) and axe-core's, and
    // a screenshot of each in target/e2e/pages/.
    test('every page, for every role, in English, French and Spanish, at 360 px and at desktop width', async () => {
      const someone = (await api.call('GET', `/api/v1/users?q=${encodeURIComponent(users.viewer.email)}`, undefined, admin)).data.items[0];
      const ours = (await api.call('POST', '/api/v1/activities', {
        title: 'Referral guide for shelters in Kenya', description: 'A guide to referring victims between shelters and services.',
        countries: ['KE'], themes: ['protection'], start_date: '2028-01-01', end_date: '2028-06-30',
      }, await api.login(users.unodc.email, PASSWORD))).data.activity;
      const everyone = [
        '#/', '#/activities', `#/activities/${ids.iloActivity}`, '#/directory', '#/agencies/ILO', '#/duplicates',
        '#/duplicates?level=overlap', '#/map', '#/countries/NG', '#/notifications', '#/account',
      ];
      const writers = ['#/activities/new', `#/activities/${ours.id}/edit`, '#/activities/import'];
      const secretariat = ['#/duplicates/model', '#/reports', '#/admin/agencies', `#/admin/agencies/${ids.IOM}`,
        '#/admin/users', `#/admin/users/${someone.id}`, '#/admin/audit', '#/admin/mail'];
      const roles = [
        ['public', null, ['#/login', '#/reset']],
        ['viewer', users.viewer.email, everyone],
        ['editor', users.unodc.email, [...everyone, ...writers]],
        ['admin', ADMIN.email, [...everyone, ...writers, ...secretariat]],
      ];
      const problems = [];
      for (const [role, email, hashes] of roles) {
        for (const [language, locale] of [['en', 'en-GB'], ['fr', 'fr-FR'], ['es', 'es-ES']]) {
          const page = await newPage(browser, server.base, { width: 360, height: 780, locale });
          await page.goto('/#/login');
          await page.waitForSelector('form input[name=email]');
          if (email) {
            await page.fill('input[name=email]', email);
            await page.fill('input[name=password]', email === ADMIN.email ? ADMIN.password : PASSWORD);
            await page.press('input[name=password]', 'Enter');
            await page.waitForSelector('#sign-out', { state: 'attached' });
            await page.waitForFunction(() => !location.hash.startsWith('#/login'));
          }
          assert.equal(await page.getAttribute('html', 'lang'), language);
          for (const hash of hashes) {
            // The page drawn last is marked, so the wait below sees the new one.
            await page.evaluate((next) => {
              if (location.hash !== next) document.querySelector('main h1')?.setAttribute('data-seen', '');
            }, hash);
            await page.goto(`/${hash}`);
            await page.waitForFunction(() => {
              const h1 = document.querySelector('main h1');
              return h1 && !h1.hasAttribute('data-seen') && !document.querySelector('main').hasAttribute('aria-busy');
            });
            const page_ = hash.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'one').replace(/[#/?=]+/g, '-').replace(/^-|-$/g, '');
            const name = `${role}-${language}-${page_ || 'dashboard'}`;
            for (const width of [360, 1280]) {
              await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
              await page.waitForTimeout(50);
              for (const p of await checkPage(page)) problems.push(`${name} at ${width} px: ${p}`);
              // The screenshots come from the SQLite run; the PostgreSQL run draws the same pages.
              if (!tag) await shot(page, `pages/${name}-${width}`);
            }
            await page.setViewportSize({ width: 360, height: 780 });
          }
          for (const e of page.errors) problems.push(`${role}-${language}: ${e}`);
          await page.context().close();
        }
      }
      assert.deepEqual(problems, []);
    });
  });
}
