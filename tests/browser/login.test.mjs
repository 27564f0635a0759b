// @world central+device
// login.test.mjs - the login page (web/index.html) against a real device and central
// (tests/browser/run.sh): the page under its strict CSP, accessible (axe-core: no serious or
// critical violation) at 1280x720 and tablet width; a sync manager's FIRST login on a device
// that is not enrolled enrols it with central, by the keyboard alone, and lands on the sync
// page; after a sync, a test taker's wrong password says so (and keeps the form usable), the
// right one lands on the test taker's page, the login page sends a logged-in person on, and
// logout ends the session; failed logins are throttled with a message saying how long to wait.
import { axe, check, finish, launch, loginReady, newPage, outpost, sessionOf, shot, world } from './lib.mjs';

const dev = world.device.url;
const expected401 = [/^40[13] .*\/api\/v1\/session$/, /^429 .*\/api\/v1\/session$/];
const { browser, page, problems } = await launch(undefined, expected401);

// ---- the page itself ----
const resp = await page.goto(`${dev}/`);
const h = resp.headers();
check('the login page is served at /', resp.status() === 200 && /text\/html/.test(h['content-type']), `${resp.status()} ${h['content-type']}`);
check('with a strict Content-Security-Policy', /default-src 'self'/.test(h['content-security-policy'] || '') &&
  /frame-ancestors 'none'/.test(h['content-security-policy']) && !/unsafe-inline/.test(h['content-security-policy']), h['content-security-policy']);
check('and nosniff', h['x-content-type-options'] === 'nosniff');
await page.waitForFunction(() => document.title === 'Log in - Outpost', null, { timeout: 10000 });
check('its strings come from i18n/en.json', (await page.textContent('label[for=password]')) === 'Password');
// (the title comes with the strings, the focus once the session was asked for: later)
check('the login field has the focus', await loginReady(page).then(() => true, () => false));
let v = await axe(page, 'login');
check('axe: no serious or critical violation on the login page', v.length === 0, v);
const overflow = () => page.evaluate(() => document.scrollingElement.scrollWidth > window.innerWidth);
check('no horizontal scrolling at 1280x720', !(await overflow()));
await shot(page, 'login');

const tablet = await newPage(browser, { width: 768, height: 1024 }, expected401);
await tablet.page.goto(`${dev}/`);
await tablet.page.waitForFunction(() => document.title === 'Log in - Outpost');
check('no horizontal scrolling at tablet width', !(await tablet.page.evaluate(() => document.scrollingElement.scrollWidth > window.innerWidth)));
v = await axe(tablet.page, 'login-tablet');
check('axe: none at tablet width either', v.length === 0, v);
await shot(tablet.page, 'login-tablet');
await tablet.context.close();

check('the login page saw no unexpected error', problems.length === 0, problems);

// ---- a sync manager's first login enrols the device: keyboard only ----
check('the device is not enrolled yet', outpost(['--data', world.device.dir, 'sync']).status !== 0);
await page.keyboard.type('sm-a');
await page.keyboard.press('Tab');
await page.keyboard.type('pw-sm-a');
await page.keyboard.press('Enter');
await page.waitForURL(/\/sync\.html$/, { timeout: 60000 }).catch(() => {});
check('the sync manager lands on the sync page', page.url().endsWith('/sync.html'), page.url());
let s = await sessionOf(page);
check('logged in as a sync manager', s.user && s.user.login === 'sm-a' && s.user.roles.includes('sync_manager'), s);
await shot(page, 'sync-manager-first-login');
const sync = outpost(['--data', world.device.dir, 'sync']);
check('the device was enrolled by that login: it syncs', sync.status === 0, sync.stderr);

// ---- a test taker: wrong password, then the right one, then logout ----
const taker = await newPage(browser, undefined, expected401);
const tp = taker.page;
await tp.goto(`${dev}/`);
await tp.waitForFunction(() => document.title === 'Log in - Outpost');
await tp.fill('#login', 'ta1');
await tp.fill('#password', 'not-my-password');
await tp.click('#submit');
// (the message says "Checking..." first, then the answer)
await tp.waitForSelector('#message[data-kind=error]:not([hidden])');
check('a wrong password says so', (await tp.textContent('#message')) === 'Wrong login or password. Check both and try again.', await tp.textContent('#message'));
check('the password field is emptied and has the focus', await tp.evaluate(() => document.activeElement.id === 'password' && document.activeElement.value === ''));
check('both fields are marked invalid', await tp.evaluate(() => document.getElementById('login').getAttribute('aria-invalid') === 'true'));
check('no session for a wrong password', (await sessionOf(tp)).status === 401);
v = await axe(tp, 'login-wrong-password');
check('axe: none with the error shown', v.length === 0, v);
await shot(tp, 'login-wrong-password');

await tp.fill('#password', 'pw-ta1');
await tp.press('#password', 'Enter');
await tp.waitForURL(/\/take\.html$/, { timeout: 30000 }).catch(() => {});
check('the test taker lands on their page', tp.url().endsWith('/take.html'), tp.url());
s = await sessionOf(tp);
check('logged in as a test taker, their vault opened', s.user && s.user.login === 'ta1' && s.user.roles.includes('test_taker'), s);
const cookies = await taker.context.cookies();
const c = cookies.find((k) => k.name === 'outpost_session');
check('the session cookie is HttpOnly and SameSite=Strict', c && c.httpOnly && c.sameSite === 'Strict', c);
check('the page cannot read it', !(await tp.evaluate(() => document.cookie.includes('outpost_session'))));
const noCsrf = await tp.evaluate(async () => (await fetch('/api/v1/session', { method: 'DELETE' })).status);
check('a change without the CSRF token is refused', noCsrf === 403, noCsrf);
await shot(tp, 'take-after-login');

await tp.goto(`${dev}/`);
await tp.waitForURL(/\/take\.html$/, { timeout: 10000 }).catch(() => {});
check('the login page sends a logged-in test taker on', tp.url().endsWith('/take.html'), tp.url());

const logout = await tp.$('#logout');
if (logout) {
  await logout.click();
  await tp.waitForURL(/\/index\.html/, { timeout: 10000 }).catch(() => {});
} else {
  await tp.evaluate(async () => {
    const s2 = await (await fetch('/api/v1/session')).json();
    await fetch('/api/v1/session', { method: 'DELETE', headers: { 'X-CSRF-Token': s2.csrf } });
  });
}
check('logout ends the session', (await sessionOf(tp)).status === 401);
check('and shows the login page', /\/(index\.html.*)?$/.test(new URL(tp.url()).pathname + new URL(tp.url()).search) && (await tp.$('#login-form')) !== null, tp.url());
await taker.context.close();

// ---- a page opened without a session sends to the login page, which says why ----
const anon = await newPage(browser, undefined, expected401);
await anon.page.goto(`${dev}/proctor.html`);
await anon.page.waitForURL(/\/index\.html\?next=/, { timeout: 10000 }).catch(() => {});
check('a page without a session goes to the login page', /\/index\.html\?next=/.test(anon.page.url()), anon.page.url());
await anon.page.waitForSelector('#message:not([hidden])', { timeout: 10000 }).catch(() => {});
check('which says to log in again', /Log in to continue/.test(await anon.page.textContent('#message')));
await anon.context.close();

// ---- throttling ----
const t2 = await newPage(browser, undefined, expected401);
await t2.page.goto(`${dev}/`);
await t2.page.waitForFunction(() => document.title === 'Log in - Outpost');
let msg = '';
for (let i = 0; i < 6; i++) {
  await t2.page.fill('#login', 'ta2');
  await t2.page.fill('#password', `guess-${i}`);
  await t2.page.click('#submit');
  await t2.page.waitForFunction(() => !document.getElementById('submit').disabled);
  msg = await t2.page.textContent('#message');
}
check('after five failures the login is throttled, saying how long to wait', /^Too many failed attempts\. Wait \d+ minutes/.test(msg), msg);
await shot(t2.page, 'login-throttled');

await finish(browser);
