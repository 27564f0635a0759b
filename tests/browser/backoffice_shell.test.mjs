// @world central
// backoffice_shell.test.mjs - central's backoffice shell (web/admin/, docs/web-pages.md
// "Central's backoffice") against a real central (tests/browser/run.sh): the login page at /
// under the strict CSP; a proctor's right password is refused with the words for it; a
// test-center administrator logs in by the keyboard alone, lands on the users page with the
// navigation to every backoffice page (each opens, the current one marked), and logs out;
// axe-core finds no serious or critical violation on the login page, the refusal, or any page.
import { axe, check, finish, launch, loginReady, shot, world } from './lib.mjs';

const url = world.central.url;
const expected = [/^40[13] .*\/api\/v1\/session$/, /^401 .*\/api\/v1\/admin\/me$/];
const { browser, page, problems } = await launch(undefined, expected);

const resp = await page.goto(`${url}/`);
const csp = resp.headers()['content-security-policy'] || '';
check('the backoffice login is served at / on central', resp.status() === 200, String(resp.status()));
check('under the strict CSP', /default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), csp);
await page.waitForFunction(() => document.title === 'Log in - Outpost backoffice', null, { timeout: 10000 });
// (the title comes with the strings, the focus once the session was asked for: later)
check('the login field has the focus', await loginReady(page).then(() => true, () => false));
let v = await axe(page, 'login');
check('axe: no serious or critical violation on the login page', v.length === 0, v);

// a proctor: the right password, but no backoffice
await page.fill('#login', 'pa1');
await page.fill('#password', 'pw-pa1');
await page.press('#password', 'Enter');
await page.waitForSelector('#message[data-kind=error]:not([hidden])');
check('a proctor is told the backoffice is not for them',
  /cannot use the backoffice/.test(await page.textContent('#message')), await page.textContent('#message'));
v = await axe(page, 'login-refused');
check('axe: none with the refusal shown', v.length === 0, v);
await shot(page, 'login-refused');

// an administrator, by the keyboard alone
await page.fill('#login', '');
await page.focus('#login');
await page.keyboard.type('tca');
await page.keyboard.press('Tab');
await page.keyboard.type('pw-tca');
await page.keyboard.press('Enter');
await page.waitForURL(/\/admin\/users\.html$/, { timeout: 30000 }).catch(() => {});
check('the administrator lands on the users page', page.url().endsWith('/admin/users.html'), page.url());
await page.waitForSelector('#bo-nav a[aria-current=page]');
check('the current page is marked in the navigation', (await page.textContent('#bo-nav a[aria-current=page]')) === 'Users');
const links = await page.$$eval('#bo-nav a', (as) => as.map((a) => a.getAttribute('href')));
check('the navigation leads to every backoffice page', links.length === 7, links);
check('the header names the user', (await page.textContent('#who')) === 'tca');
for (const href of links) {
  await page.goto(`${url}${href}`);
  await page.waitForSelector('#bo-nav a[aria-current=page]');
  v = await axe(page, href.replace(/^\/admin\/|\.html$/g, ''));
  check(`axe: no serious or critical violation on ${href}`, v.length === 0, v);
}
await shot(page, 'shell');

await page.click('#logout');
await page.waitForURL(/\/index\.html$/, { timeout: 10000 }).catch(() => {});
await page.goto(`${url}/admin/users.html`);
await page.waitForURL(/\/admin\/index\.html\?next=/, { timeout: 10000 }).catch(() => {});
check('after logout a page sends back to the login', /\/admin\/index\.html\?next=/.test(page.url()), page.url());
check('the pages saw no unexpected error', problems.length === 0, problems);
await finish(browser);
