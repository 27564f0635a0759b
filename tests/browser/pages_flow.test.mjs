// pages_flow.test.mjs - browser test of the take, proctor and sync pages' behaviour against the
// API contract (/work notes api-contract, docs/runner.md), until the endpoints are on main: a
// small in-test server answers the contract's requests from the engine's real render models
// (tests/tools/render_dump of the fixture package) and checks what the pages send (the CSRF
// header on every change, the version of every proctor action, the item_key of every step).
// It stands in for `outpost serve` only in this test; the same flows against the real server
// belong in the harness of tests/browser once the runner, proctor and sync endpoints land.
//
// Checked: a test taker starts a proctored delivery and waits; the proctor authorizes and the
// taker's page follows; the taker answers with the keyboard, reloads in the middle (the answer
// typed survives), the proctor pauses and resumes and the taker's page follows; a proctor
// acting on a stale screen gets the 409 message and the fresh state; the taker finishes; the
// sync manager presses the big button, sees the progress, the outcome and the history. axe-core
// on every page: no serious or critical violation. Screenshots in the artifacts dir.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const src = process.env.OUTPOST_SOURCE || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const build = process.env.BUILD_DIR || path.join(src, 'build');
const artifacts = process.env.OUTPOST_ARTIFACTS || path.join(build, 'browser-artifacts');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const require = createRequire(path.join(src, 'package.json'));
let chromium, axePath;
try {
  ({ chromium } = require('playwright-core'));
  axePath = require.resolve('axe-core/axe.min.js');
} catch (e) {
  console.log(`SKIP: npm packages missing (run scripts/install-deps.sh): ${e.message}`);
  process.exit(77);
}
if (!fs.existsSync(chromiumPath)) { console.log(`SKIP: ${chromiumPath} missing`); process.exit(77); }

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); } else { failed++; console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`); }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-pages-flow-'));
fs.mkdirSync(artifacts, { recursive: true });
const fixture = path.join(src, 'tests/browser/fixtures/interactions');
const zip = path.join(work, 'interactions.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, fixture]);
const dump = JSON.parse(execFileSync(path.join(build, 'render_dump'), [zip], { maxBuffer: 64 << 20 }));

// ---- the contract, in memory ----
const CSRF = 'csrf-token-of-this-session';
const items = dump.items.slice(0, 3);
const ex = {
  id: 'E1', delivery_id: 'D1', delivery_label: 'Every interaction', test_taker_id: 'U1', test_taker_label: 'Ada Lovelace',
  center_id: 'C1', state: null, version: 0, position: 0, item_count: items.length, time_left: 1800, started_at: null, updated_at: null,
};
const saved = {};
const sent = { noCsrf: 0, badKey: 0, versions: [] };
let sync = { running: false, phase: null, records: 0, bytes: 0, results_sent: 0, outcome: null, error: null, started_at: null, ended_at: null };
let syncPolls = 0;
let cronHolds = false;
const history = [];
function bump(state) { ex.state = state; ex.version++; ex.updated_at = Date.now() / 1000; }
function view() {
  if (ex.state !== 'active') return null;
  const it = items[ex.position];
  return {
    item_key: it.key, position: ex.position, item_count: items.length, ended: false, paused: false,
    item: it.item, session: it.view, rubrics: [], responses: saved[it.key] || {},
    navigation: { previous: ex.position > 0, next: ex.position < items.length - 1, skip: true, review: false, jump: false },
    time_left: ex.time_left,
  };
}

const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png' };
function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
function err(res, status, code, message) { json(res, status, { error: { code, message } }); }
async function readBody(req) {
  let b = '';
  for await (const c of req) b += c;
  return b ? JSON.parse(b) : {};
}

async function apiRoute(req, res, u) {
  if (req.method !== 'GET' && req.headers['x-csrf-token'] !== CSRF) { sent.noCsrf++; return err(res, 403, 'csrf', 'missing CSRF token'); }
  const body = req.method === 'POST' ? await readBody(req) : {};
  const user = { id: 'U1', login: 'ada', label: 'Ada Lovelace', roles: ['test_taker', 'proctor', 'sync_manager'] };
  let m;
  if (u === '/api/v1/session' && req.method === 'GET') return json(res, 200, { user, csrf: CSRF });
  if (u === '/api/v1/my/deliveries') {
    return json(res, 200, { deliveries: [{ delivery_id: 'D1', label: 'Every interaction', center_id: 'C1', center_label: 'North school', proctored: true, max_executions: 1, executions: ex.state ? [ex] : [] }] });
  }
  if (u === '/api/v1/executions' && req.method === 'POST') {
    if (body.delivery_id !== 'D1' || body.center_id !== 'C1') return err(res, 400, 'input', 'bad delivery');
    bump('awaiting_authorization');
    return json(res, 201, { execution: ex });
  }
  if ((m = u.match(/^\/api\/v1\/executions\/E1\/assets\/(.+)$/))) {
    const f = path.join(fixture, m[1]);
    if (!fs.existsSync(f)) return err(res, 404, 'not_found', 'no such file');
    res.writeHead(200, { 'Content-Type': types[path.extname(f)] || 'application/octet-stream' });
    return res.end(fs.readFileSync(f));
  }
  if (u === '/api/v1/executions/E1') return json(res, 200, { execution: ex, view: view() });
  if (u === '/api/v1/executions/E1/begin' && req.method === 'POST') {
    if (ex.state !== 'authorized' || body.version !== ex.version) return err(res, 409, 'conflict', 'stale version');
    bump('active');
    return json(res, 200, { execution: ex });
  }
  if ((m = u.match(/^\/api\/v1\/executions\/E1\/(responses|move|finish)$/))) {
    const v = view();
    if (!v) return err(res, 409, 'conflict', 'the test is not active');
    if (body.item_key !== v.item_key) { sent.badKey++; return err(res, 409, 'conflict', 'not the current item'); }
    if (m[1] === 'responses') saved[v.item_key] = body.responses;
    else if (m[1] === 'move') {
      const to = body.to === 'next' ? ex.position + 1 : body.to === 'previous' ? ex.position - 1 : Number(body.to);
      if (!(to >= 0 && to < items.length)) return err(res, 400, 'input', 'to');
      ex.position = to;
    } else { bump('finished'); return json(res, 200, { execution: ex }); }
    ex.time_left -= 1;
    return json(res, 200, { execution: ex, view: view() });
  }
  if (u === '/api/v1/proctor/executions') return json(res, 200, { executions: ex.state ? [ex] : [] });
  if ((m = u.match(/^\/api\/v1\/proctor\/executions\/E1\/([a-z-]+)$/))) {
    sent.versions.push(body.version);
    if (body.version !== ex.version) return err(res, 409, 'conflict', 'stale version');
    const next = { authorize: 'authorized', pause: 'paused', resume: 'active', terminate: 'terminated' }[m[1]];
    if (m[1] === 'extra-time') { ex.time_left += body.seconds; ex.version++; } else if (next) bump(next); else ex.version++;
    return json(res, 200, { execution: ex });
  }
  if (u === '/api/v1/sync' && req.method === 'POST') {
    if (cronHolds) {
      cronHolds = false;
      sync = { ...sync, running: true, phase: 'pull changes', outcome: null };
      syncPolls = 0;
    }
    if (sync.running) return json(res, 200, { sync: { ...sync, already_running: true } });
    sync = { running: true, phase: 'push results', records: 0, bytes: 0, results_sent: 0, outcome: null, error: null, started_at: Date.now() / 1000, ended_at: null };
    syncPolls = 0;
    return json(res, 202, { sync });
  }
  if (u === '/api/v1/sync') {
    if (sync.running && ++syncPolls >= 3) {
      sync = { ...sync, running: false, phase: 'done', records: 42, bytes: 123456, results_sent: 1, outcome: 'ok', ended_at: Date.now() / 1000 };
      history.unshift({ id: 1, device_id: 'dev1', started_at: new Date(sync.started_at * 1000).toISOString(), ended_at: new Date().toISOString(), status: 'ok', counts: { users: { created: 40, updated: 2, deleted: 0 } }, results_sent: 1, bytes: 123456, error: null });
    } else if (sync.running) sync = { ...sync, phase: 'pull changes', records: 10 * syncPolls, bytes: 4096 * syncPolls };
    return json(res, 200, { sync });
  }
  if (u === '/api/v1/sync/history') return json(res, 200, { runs: history });
  if (u === '/api/v1/readiness') {
    return json(res, 200, { central: { url: 'https://central.example.org', reachable: true, latency_ms: 12 }, results_waiting: ex.state === 'finished' && !history.length ? 1 : 0, disk: { free_bytes: 20e9, ok: true }, last_sync: history[0] || null });
  }
  return err(res, 404, 'not_found', u);
}

const server = http.createServer((req, res) => {
  const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (u.includes('..')) { res.writeHead(400); return res.end(); }
  if (u.startsWith('/api/')) return apiRoute(req, res, u).catch((e) => err(res, 500, 'internal', String(e)));
  const f = path.join(src, 'web', u === '/' ? 'index.html' : u);
  if (!fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); return res.end(); }
  res.writeHead(200, { 'Content-Type': types[path.extname(f)] || 'application/octet-stream', 'Content-Security-Policy': CSP });
  fs.createReadStream(f).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
const axeSource = fs.readFileSync(axePath, 'utf8');
const problems = [];
async function newPage(width, height) {
  const ctx = await browser.newContext({ viewport: { width, height } });
  const p = await ctx.newPage();
  p.on('console', (m) => { if (m.type() === 'error' && !/status of (404|409)/.test(m.text())) problems.push(m.text()); });
  p.on('pageerror', (e) => problems.push(String(e)));
  return p;
}
async function axeCheck(p, name) {
  await p.screenshot({ path: path.join(artifacts, `pages-${name}.png`), fullPage: true });
  await p.evaluate(axeSource);
  const r = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`${name}: axe-core finds no serious or critical violation`, bad.length === 0, bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; '));
}
async function tabTo(p, sel) {
  for (let i = 0; i < 60; i++) {
    if (await p.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), sel)) return;
    await p.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${sel}`);
}
const visible = (p, sel, ms = 8000) => p.waitForSelector(sel, { state: 'visible', timeout: ms }).then(() => true, () => false);

try {
  const taker = await newPage(1280, 720);
  const proctor = await newPage(1024, 768); // a tablet held sideways
  await taker.goto(`${base}/take.html`);
  check('the test taker sees the delivery', await visible(taker, 'text=Start Every interaction'));
  await axeCheck(taker, 'take-list');
  await tabTo(taker, 'button.primary');
  await taker.keyboard.press('Enter');
  check('a proctored start waits for a proctor', await visible(taker, '#waiting'));
  await axeCheck(taker, 'take-waiting');

  await proctor.goto(`${base}/proctor.html`);
  check('the proctor sees the test taker waiting', await visible(proctor, 'tr[data-id=E1] >> text=Waiting for authorization'));
  await axeCheck(proctor, 'proctor-waiting');
  await tabTo(proctor, 'button[data-action=authorize]');
  await proctor.keyboard.press('Enter');
  check('the proctor sees the test in progress once the taker began', await visible(proctor, 'tr[data-id=E1] >> text=In progress'));
  check("the taker's page follows the authorization (no reload)", await visible(taker, '#runner .qti-choice', 6000));
  check('the timer shows the time left', /^29:5\d|^30:00/.test(await taker.textContent('#timer')), await taker.textContent('#timer'));
  await axeCheck(taker, 'take-item');

  // Q01 with the keyboard, then Next.
  await taker.locator('#item').focus();
  await tabTo(taker, 'input[type=radio]');
  for (let i = 0; i < 5 && !(await taker.evaluate(() => document.activeElement.value === 'B')); i++) await taker.keyboard.press('ArrowDown');
  await tabTo(taker, '#next');
  await taker.keyboard.press('Enter');
  check('Next shows question 2', await visible(taker, 'text=Question 2 of 3'));
  check('the answer went to the server with its item_key', JSON.stringify(saved.Q01) === '{"RESPONSE":"B"}', JSON.stringify(saved));

  // Q02: tick a box, reload before leaving: the draft comes back; the server's state says where.
  await taker.locator('#item').focus();
  await tabTo(taker, 'input[value=A]');
  await taker.keyboard.press('Space');
  await taker.reload();
  check('a reload resumes at the same question', await visible(taker, 'text=Question 2 of 3'));
  check('a reload keeps the answer not yet sent', await taker.isChecked('input[value=A]'));

  // The proctor pauses; the taker's page follows; resume brings the item back.
  await proctor.click('tr[data-id=E1] button[data-action=pause]');
  check("the taker's page follows the pause", await visible(taker, '#paused', 6000));
  await axeCheck(taker, 'take-paused');
  await proctor.click('tr[data-id=E1] button[data-action=resume]');
  check("the taker's page follows the resume", await visible(taker, '#runner .qti-choice', 6000));
  check('after the pause the answer not yet sent is still there', await taker.isChecked('input[value=A]'));

  // A stale screen: another proctor changed the execution meanwhile.
  ex.version += 1;
  await proctor.click('tr[data-id=E1] button[data-action=pause]');
  check('a stale proctor screen gets the 409 message', await visible(proctor, '#message >> text=Someone else changed this'));
  check('the 409 did not apply the action', ex.state === 'active');
  await axeCheck(proctor, 'proctor-active');

  // Extra time through the dialog (keyboard).
  await proctor.click('tr[data-id=E1] button[data-action=extra-time]');
  await proctor.fill('#ask-minutes', '10');
  await proctor.keyboard.press('Enter');
  check('extra time is sent in seconds with the version', await visible(proctor, '#done >> text=Extra time: done'));

  // Previous and finish.
  await taker.click('#prev');
  check('Previous goes back and shows the saved answer', await visible(taker, 'text=Question 1 of 3') && await taker.isChecked('input[value=B]'));
  await taker.click('#finish');
  await visible(taker, '#confirm');
  await axeCheck(taker, 'take-confirm');
  await taker.keyboard.press('Tab');
  await taker.click('#confirm-ok');
  check('finishing shows the finished page', await visible(taker, 'text=Test finished'));
  await axeCheck(taker, 'take-finished');
  check('every change carried the CSRF token', sent.noCsrf === 0, `${sent.noCsrf} without`);
  check('every step named the current item', sent.badKey === 0, `${sent.badKey} wrong`);

  // The sync manager's button.
  const mgr = await newPage(1280, 720);
  await mgr.goto(`${base}/sync.html`);
  check('the readiness panel shows central reachable', await visible(mgr, '#central >> text=Reachable (12 ms)'));
  check('no sync yet in the history', await visible(mgr, '#history-none'));
  await axeCheck(mgr, 'sync-idle');
  await tabTo(mgr, '#start');
  await mgr.keyboard.press('Enter');
  check('the button shows the sync running', await visible(mgr, '#sync-state >> text=Synchronisation in progress', 3000));
  check('the progress shows the phase', await visible(mgr, '#phase >> text=/pull changes|push results/', 3000));
  check('then the outcome', await visible(mgr, '#sync-state >> text=Synchronisation finished successfully.', 8000));
  check('and the run in the history', await visible(mgr, '#history-rows >> text=ok'));
  check('the records of the run', (await mgr.textContent('#records')) === '42');
  await axeCheck(mgr, 'sync-done');
  // A second press while one runs shows the running one.
  // (cron's `outpost sync` took the lock since the page's last poll)
  cronHolds = true;
  await mgr.click('#start');
  check('pressing while a sync runs shows the running sync', await visible(mgr, '#message >> text=already running'));

  // Tablet width: no horizontal scrolling on the taker's page.
  const tablet = await newPage(768, 1024);
  await tablet.goto(`${base}/proctor.html`);
  await visible(tablet, 'tr[data-id=E1]');
  check('the proctor page fits a tablet in portrait', await tablet.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await tablet.screenshot({ path: path.join(artifacts, 'pages-proctor-tablet.png'), fullPage: true });
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
check('no script error and no CSP violation', problems.length === 0, problems.join(' | '));
await browser.close();
server.close();
fs.rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
