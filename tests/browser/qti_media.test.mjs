// qti_media.test.mjs - browser test of mediaInteraction in the item renderer (web/qti.js).
//
// The fixture package tests/browser/fixtures/media (an audio tone from the package itself,
// Q01: minPlays 1, maxPlays 2; Q02: autostart, loop, maxPlays 3) is zipped, walked by
// tests/tools/render_dump and shown in Debian's chromium under the device's strict CSP with
// the lab page. Q01 is played with the KEYBOARD (the page's Play button, Enter) until its
// two plays are used and the button is disabled; Q02 starts by itself and loops until its
// three plays are used; a mouse click plays Q01 once. The play counts the page collects are
// scored by `outpost qti run` (each item 1, the test 2), and a count over maxPlays is
// refused by the engine's response validation. axe-core must find no serious or critical
// violation.
//
// Chromium runs with --autoplay-policy=no-user-gesture-required: each item is a fresh page
// load here, where a device's page has had the candidate's gestures before an item shows.
//
// env: OUTPOST (binary), BUILD_DIR (render_dump), OUTPOST_SOURCE, OUTPOST_ARTIFACTS (optional)
// exit 77 (skipped) when chromium or the npm packages are missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const src = process.env.OUTPOST_SOURCE || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const build = process.env.BUILD_DIR || path.join(src, 'build');
const outpost = process.env.OUTPOST || path.join(build, 'outpost');
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
if (!fs.existsSync(chromiumPath)) {
  console.log(`SKIP: ${chromiumPath} missing (run scripts/install-deps.sh)`);
  process.exit(77);
}

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); }
  else { failed++; console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`); }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-qti-media-'));
fs.mkdirSync(artifacts, { recursive: true });
const fixture = path.join(src, 'tests/browser/fixtures/media');
const zip = path.join(work, 'media.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, fixture]);
const dumpText = execFileSync(path.join(build, 'render_dump'), [zip], { maxBuffer: 64 << 20 });
const dump = JSON.parse(dumpText);

// ---- a static server: web/ at /, the lab page, the package files as execution assets ----
const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wav': 'audio/wav' };
const assetRequests = [];
function serveFile(res, file) {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end('not found'); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
  fs.createReadStream(file).pipe(res);
}
const server = http.createServer((req, res) => {
  const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (u.includes('..')) { res.writeHead(400); res.end(); return; }
  if (u === '/lab/dump.json') { res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Security-Policy': CSP }); res.end(dumpText); return; }
  if (u.startsWith('/lab/')) return serveFile(res, path.join(src, 'tests/browser/fixtures', u.slice(5)));
  const asset = u.match(/^\/api\/v1\/executions\/lab\/assets\/(.+)$/);
  if (asset) { assetRequests.push(asset[1]); return serveFile(res, path.join(fixture, asset[1])); }
  return serveFile(res, path.join(src, 'web', u === '/' ? 'index.html' : u));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const page = await context.newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
page.on('requestfailed', (r) => { if (!r.url().startsWith(base)) problems.push(`request outside: ${r.url()}`); });
page.on('pageerror', (e) => problems.push(String(e)));
const axeSource = fs.readFileSync(axePath, 'utf8');

async function tabTo(sel) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), sel)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${sel}`);
}
const status = () => page.locator('.qti-media-plays').textContent();
// Waits until the media is no longer playing and the status names `n` plays.
async function waitPlays(n) {
  await page.waitForFunction((want) => {
    const m = document.querySelector('audio');
    const s = document.querySelector('.qti-media-plays').textContent;
    return m && m.paused && s.startsWith(`Played ${want} `);
  }, n, { timeout: 15000 });
}
async function show(i) {
  await page.goto(`${base}/lab/lab.html?i=${i}`);
  await page.waitForSelector(`body[data-ready="${dump.items[i].key}"]`);
}
async function axe(name) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`${name}: axe-core finds no serious or critical violation`, bad.length === 0,
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; '));
}

const responses = {};
check('the render model holds the play limits', (() => {
  const it = dump.items[0].item.interactions[0];
  return it.type === 'mediaInteraction' && it.minPlays === 1 && it.maxPlays === 2 && it.autostart === false &&
    it.object.data === 'items/media/tone.wav' && it.object.type === 'audio/wav';
})(), JSON.stringify(dump.items[0].item.interactions[0]));

// Q01 with the keyboard: two plays, then the button is disabled.
try {
  await show(0);
  check('Q01: no native controls (they would replay past maxPlays)', await page.evaluate(() => !document.querySelector('audio').controls));
  check('Q01: nothing played yet', (await status()) === 'Played 0 of 2 times', await status());
  check('Q01: autostart="false" does not start it', await page.evaluate(() => document.querySelector('audio').paused));
  await page.locator('body').focus();
  await tabTo('button.qti-media-play');
  await page.keyboard.press('Enter');
  await waitPlays(1);
  check('Q01: Enter plays it once to the end', true);
  await tabTo('button.qti-media-play');
  await page.keyboard.press('Space');
  await waitPlays(2);
  check('Q01: Space plays it a second time', (await status()) === 'Played 2 of 2 times', await status());
  check('Q01: after maxPlays the Play button is disabled', await page.locator('button.qti-media-play').isDisabled());
  await page.evaluate(() => document.querySelector('audio').play().catch(() => {}));
  await page.waitForTimeout(500);
  check('Q01: a play past maxPlays is stopped and not counted',
    JSON.stringify(await page.evaluate(() => window.labResponses())) === '{"RESPONSE":2}');
  responses.Q01 = await page.evaluate(() => window.labResponses());
  check('Q01: the page collects 2 plays', JSON.stringify(responses.Q01) === '{"RESPONSE":2}', JSON.stringify(responses.Q01));
  await page.screenshot({ path: path.join(artifacts, 'media-Q01.png'), fullPage: true });
  await axe('Q01');
} catch (e) {
  check('Q01 played with the keyboard', false, e.message);
}

// Q01 with the mouse: one click, one play.
try {
  await show(0);
  await page.click('button.qti-media-play');
  await waitPlays(1);
  check('Q01: a click plays it once', JSON.stringify(await page.evaluate(() => window.labResponses())) === '{"RESPONSE":1}');
} catch (e) {
  check('Q01 played with the mouse', false, e.message);
}

// Q02: autostart and loop, until its three plays are used.
try {
  await show(1);
  await waitPlays(3);
  await page.waitForTimeout(600);
  responses.Q02 = await page.evaluate(() => window.labResponses());
  check('Q02: autostart and loop play it maxPlays (3) times, then stop', JSON.stringify(responses.Q02) === '{"RESPONSE":3}', JSON.stringify(responses.Q02));
  check('Q02: then the Play button is disabled', await page.locator('button.qti-media-play').isDisabled());
  await axe('Q02');
} catch (e) {
  check('Q02 plays by itself', false, e.message);
}
check('the media came from the package\'s own assets', assetRequests.includes('items/media/tone.wav'), assetRequests.join(', '));
check('no script error, no CSP violation, nothing fetched from outside', problems.length === 0, problems.join(' | '));

// ---- the engine scores what the browser collected, and refuses a count over maxPlays ----
const respFile = path.join(work, 'responses.json');
fs.writeFileSync(respFile, JSON.stringify(responses, null, 1));
let run;
try {
  run = JSON.parse(execFileSync(outpost, ['qti', 'run', '-f', zip, '--responses', respFile]).toString());
} catch (e) {
  check('outpost qti run accepts the collected responses', false, String(e.stderr || e.message));
}
if (run) {
  for (const key of ['Q01', 'Q02'])
    check(`${key}: the play count scores 1`, run.items[key] && run.items[key].SCORE === 1, JSON.stringify(run.items[key]));
  check('the whole test scores 2', run.test.TOTAL === 2, `TOTAL ${run.test.TOTAL}`);
}
fs.writeFileSync(respFile, JSON.stringify({ Q01: { RESPONSE: 3 } }));
let refused = '';
try {
  execFileSync(outpost, ['qti', 'run', '-f', zip, '--responses', respFile], { stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  refused = String(e.stderr);
}
check('3 plays where maxPlays is 2 are refused by response validation', /at most 2 times/.test(refused), refused || 'accepted');

await browser.close();
server.close();
fs.rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
