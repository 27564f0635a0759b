// lib.mjs - what the browser tests share: the world run.sh made (servers, logins), Debian's
// chromium driven by playwright-core, axe-core injected into a page, screenshots kept as
// artifacts, `outpost` commands, and the checks with the closing line "N passed, N failed".
//
//   import { world, launch, check, axe, shot, outpost, finish } from './lib.mjs';
//   const { browser, page } = await launch();            // 1280x720, problems collected
//   await page.goto(world.device.url + '/');
//   check('the login page is accessible', (await axe(page, 'login')).length === 0);
//   await shot(page, 'login');                            // OUTPOST_ARTIFACTS/<test>-login.png
//   await finish(browser);                                // exits 1 on any failure
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export const src = process.env.OUTPOST_SOURCE || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const build = process.env.BUILD_DIR || path.join(src, 'build');
export const artifacts = process.env.OUTPOST_ARTIFACTS || path.join(build, 'browser-artifacts');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const testName = path.basename(process.argv[1] || 'test', '.test.mjs');
const require = createRequire(path.join(src, 'package.json'));

let chromium, axeSource;
try {
  ({ chromium } = require('playwright-core'));
  axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
} catch (e) {
  console.log(`SKIP: npm packages missing (npm ci, as scripts/install-deps.sh does): ${e.message}`);
  process.exit(77);
}
if (!fs.existsSync(chromiumPath)) {
  console.log(`SKIP: ${chromiumPath} missing (scripts/install-deps.sh installs chromium)`);
  process.exit(77);
}

// The world of run.sh: {central: {url, dir}, device: {url, dir}, outpost, logins}; null when
// the test runs alone.
export const world = process.env.OUTPOST_WORLD ? JSON.parse(fs.readFileSync(process.env.OUTPOST_WORLD, 'utf8')) : null;
export const password = (login) => `pw-${login}`;

let passed = 0, failed = 0;
export function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail !== undefined ? `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`); }
  return !!ok;
}

// A browser and a page at 1280x720 (or `viewport`); page errors, failed requests (4xx/5xx
// but the ones a test expects: `allow` is a list of RegExps over "STATUS URL") and console
// errors go to `problems`. `args`: more chromium flags, for a test that needs them (the
// fake microphone: --use-fake-device-for-media-stream --use-fake-ui-for-media-stream).
export async function launch(viewport, allow = [], args = []) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', ...args] });
  const { context, page, problems } = await newPage(browser, viewport, allow);
  return { browser, context, page, problems };
}

// Another context (its own cookies: another person) in the same browser.
export async function newPage(browser, viewport = { width: 1280, height: 720 }, allow = []) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const allowed = (s) => allow.some((re) => re.test(s)) || /favicon\.ico$/.test(s);
  page.on('response', (r) => {
    const s = `${r.status()} ${r.url()}`;
    if (r.status() >= 400 && !allowed(s)) problems.push(s);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/the server responded with a status of (401|403|404|409|429)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

// axe-core's serious and critical violations on the page as it is now ([] when none); the
// full report goes to the artifacts as <test>-<name>-axe.json.
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  fs.mkdirSync(artifacts, { recursive: true });
  fs.writeFileSync(path.join(artifacts, `${testName}-${name}-axe.json`), JSON.stringify(result.violations, null, 1));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

// A screenshot of the page, kept as OUTPOST_ARTIFACTS/<test>-<name>.png.
export async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${testName}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Runs `outpost ARGS...` (the binary under test); {status, stdout, stderr}.
export function outpost(args, input) {
  const bin = process.env.OUTPOST || (world && world.outpost) || path.join(build, 'outpost');
  try {
    const stdout = execFileSync(bin, args, { input: input || '', stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    return { status: e.status, stdout: String(e.stdout || ''), stderr: String(e.stderr || '') };
  }
}

// The page's own session as the server sees it (GET /api/v1/session from the page, with its
// cookie): the JSON body, or {status} when refused.
export async function sessionOf(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/v1/session', { credentials: 'same-origin' });
    return r.ok ? r.json() : { status: r.status };
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return false; } };

// Stops the device's `outpost serve` (SIGTERM, as a shutdown would) and starts it again on
// the same port and data folder, as a restarted server after a crash or a reboot; resolves
// once it answers again. Its pid goes to the world's pid file, so run.sh stops the new one.
export async function restartDevice() {
  const pid = Number(fs.readFileSync(world.device.pid_file, 'utf8'));
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
  if (alive(pid)) throw new Error(`the device's server (pid ${pid}) did not stop`);
  const bin = process.env.OUTPOST || world.outpost;
  const url = new URL(world.device.url);
  const log = fs.openSync(world.device.log, 'a');
  const child = spawn(bin, ['--data', world.device.dir, 'serve', '--listen', `${url.hostname}:${url.port}`],
    { detached: true, stdio: ['ignore', 'ignore', log] });
  child.unref();
  fs.closeSync(log);
  fs.writeFileSync(world.device.pid_file, String(child.pid));
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${world.device.url}/api/v1/health`);
      if (r.status < 500) return child.pid;
    } catch (e) { /* not listening yet */ }
    if (!alive(child.pid)) break;
    await sleep(50);
  }
  throw new Error("the device's server did not start again");
}

// Runs `sqlite3 FILE SQL` (the browser world is on SQLite): the rows, one a line.
export function sqlite(dir, sql) {
  return execFileSync('sqlite3', [path.join(dir, 'outpost.db'), sql], { encoding: 'utf8' }).trim();
}

// Presses Tab (Shift+Tab with `back`) until the focused element matches `sel` (a CSS
// selector, or {text} for the element whose text that is): the keyboard alone reaches it.
export async function tabTo(page, sel, back) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => {
      const a = document.activeElement;
      return !!a && (typeof s === 'string' ? a.matches(s) : a.textContent.trim() === s.text);
    }, sel)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${JSON.stringify(sel)}`);
}

// Resolves once a login page (web/index.html, web/admin/index.html) listens to its form: its
// login field takes the focus then (lib.js loginPage). Typing before that could be lost.
export const loginReady = (page, ms = 15000) =>
  page.waitForFunction(() => document.activeElement && document.activeElement.id === 'login', null, { timeout: ms });

// The device's pages in the world of run.sh ("// @world central+device"), as their tests set
// it up: a browser, a page per person with its problems kept, and, when `fixture` is named,
// that package of tests/browser/fixtures imported on central as `label` for `takers` (A North,
// not proctored; `edit(dir)` may change the copy first), then, but with `sync: false`, the
// device enrolled by the sync manager's first login and synced by the big button (a check for
// each step).
//   const w = await openWorld({ allow, fixture: 'graphic', label: 'Pictures', takers: ['ta1'] });
//   const ta1 = await w.page();                      // another person: a context of their own
//   check('ta1 logs in', await deviceLogin(ta1, 'ta1', /\/take\.html$/));
//   check('no script error', w.problems().length === 0, w.problems());
//   w.browser, w.zip (the package as imported), w.work (a folder of the test's own), w.manager
//   (the sync manager's page)
export async function openWorld({ allow = [], fixture, label, takers = [], edit, sync = true } = {}) {
  const { browser } = await launch(undefined, allow);
  const kept = [];
  const w = {
    browser,
    work: fs.mkdtempSync(path.join(world.work, `${testName}-`)),
    // a page of its own context (another person), its problems kept; `more` allows more
    async page(viewport, more = []) {
      const p = await newPage(browser, viewport, [...allow, ...more]);
      kept.push(p.problems);
      return p.page;
    },
    // problems of pages made elsewhere (a touch context's), checked with the others
    keep(list) { kept.push(list); },
    // every page's problems, but the network errors of a server stopped on purpose
    problems: () => kept.flat().filter((x) => !/ERR_CONNECTION_REFUSED|Failed to fetch|NetworkError/.test(x)),
  };
  if (!fixture) return w;
  const dir = path.join(w.work, fixture);
  fs.cpSync(path.join(src, 'tests/browser/fixtures', fixture), dir, { recursive: true });
  if (edit) edit(dir);
  w.zip = path.join(w.work, `${fixture}.zip`);
  execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), w.zip, dir]);
  for (const s of [
    ['import-qti', '-f', w.zip, '--label', label],
    ['eligibilities', 'set', '--center', 'A North', '--delivery', label, '--test-takers', takers.join(','), '--proctored', 'no'],
  ]) {
    const r = outpost(['--data', world.central.dir, ...s]);
    check(`central: outpost ${s.slice(0, 2).join(' ')}`, r.status === 0, r.stderr);
  }
  if (!sync) return w;
  w.manager = await w.page();
  check("the sync manager's first login enrols the device", await deviceLogin(w.manager, 'sm-a', /\/sync\.html$/));
  check('the first sync brings the delivery', await syncByButton(w.manager, 1));
  return w;
}

// Logs `who` (password "pw-" and the login) in on the device's login page by the keyboard
// alone, from wherever the page is (the login page where it is on it already, as after a
// server's restart); true once the page is on `landing`.
export async function deviceLogin(p, who, landing) {
  if (p.url() === 'about:blank' || !/^\/(index\.html)?$/.test(new URL(p.url()).pathname)) await p.goto(`${world.device.url}/`);
  await loginReady(p);
  await p.keyboard.type(who);
  await p.keyboard.press('Tab');
  await p.keyboard.type(password(who));
  await p.keyboard.press('Enter');
  await p.waitForURL(landing, { timeout: 60000 }).catch(() => {});
  return landing.test(p.url());
}

// On the device's sync page: the big button pressed with the keyboard, then the wait for its
// run to end (`runs` runs in the history, the button on again); true when it ended well.
export async function syncByButton(p, runs) {
  await p.waitForSelector('#start:enabled', { timeout: 15000 }).catch(() => {}); // (off until the page listens)
  await tabTo(p, '#start');
  await p.keyboard.press('Enter');
  await p.waitForFunction((n) => document.querySelectorAll('#history-rows tr').length >= n &&
    !document.getElementById('start').disabled, runs, { timeout: 60000 }).catch(() => {});
  return visible(p, '#sync-state >> text=Synchronisation finished successfully.', 1000);
}

// Logs `login` in on central's backoffice (web/admin/index.html) with `pw`; true once on the
// users page, where a login lands.
export async function backofficeLogin(p, login, pw) {
  await p.goto(`${world.central.url}/admin/index.html`);
  await loginReady(p);
  await p.fill('#login', login);
  await p.fill('#password', pw);
  await p.press('#password', 'Enter');
  await p.waitForURL(/\/admin\/users\.html/, { timeout: 30000 }).catch(() => {});
  return /\/admin\/users\.html/.test(p.url());
}

// A screenshot of the page and axe-core's check of it: no serious or critical violation.
export async function a11y(p, name) {
  await shot(p, name);
  const v = await axe(p, name);
  check(`axe: no serious or critical violation (${name})`, v.length === 0, v);
}

// True once the take page holds `want` (a piece of its JSON) in its draft of item `key`
// (sessionStorage, web/take.js), false after `ms`: a PCI's frame reports its answer by message,
// at a gesture or every half second, and the page keeps what it got there until it sends it.
export const draftHolds = (page, key, want, ms = 15000) => page.waitForFunction(([k, w]) => Object.keys(sessionStorage).some((s) =>
  /^outpost-draft\d*:/.test(s) && s.endsWith(`:${k}`) && sessionStorage.getItem(s).includes(w)), [key, want], { timeout: ms })
  .then(() => true, () => false);

// True once `sel` is visible (false after `ms`).
export const visible = (page, sel, ms = 10000) =>
  page.waitForSelector(sel, { state: 'visible', timeout: ms }).then(() => true, () => false);

// Ends the test: closes the browser, prints the closing line, exits 1 on any failure.
export async function finish(browser) {
  if (browser) await browser.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
