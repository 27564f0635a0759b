// qti_renderer.mjs - browser test of the item renderer (web/qti.js) on the engine's own output.
//
// The fixture package tests/browser/fixtures/interactions (one item per interaction the
// engine supports) is zipped, walked by tests/tools/render_dump (the render models a device
// sends), and each item is shown in Debian's chromium (playwright-core) under the device's
// strict CSP. Every item is answered with the KEYBOARD ALONE; the responses the renderer
// collects are then scored by `outpost qti run`: every item must score 1 and the test 16.
// axe-core must find no serious or critical violation; screenshots go to the artifacts dir.
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

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-qti-renderer-'));
fs.mkdirSync(artifacts, { recursive: true });
const fixture = path.join(src, 'tests/browser/fixtures/interactions');
const zip = path.join(work, 'interactions.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, fixture]);
const dumpText = execFileSync(path.join(build, 'render_dump'), [zip], { maxBuffer: 64 << 20 });
const dump = JSON.parse(dumpText);

// ---- a static server: web/ at /, the lab page, the package files as execution assets ----
const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };
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
  if (asset) return serveFile(res, path.join(fixture, asset[1]));
  return serveFile(res, path.join(src, 'web', u === '/' ? 'index.html' : u));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
const page = await context.newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`); });
page.on('pageerror', (e) => problems.push(String(e)));
const axeSource = fs.readFileSync(axePath, 'utf8');

// Presses Tab (Shift+Tab with back) until the focused element matches `sel`.
async function tabTo(sel, back) {
  for (let i = 0; i < 80; i++) {
    if (await page.evaluate((s) => !!document.activeElement && document.activeElement.matches(s), sel)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${sel}`);
}
async function press(key, n = 1) { for (let i = 0; i < n; i++) await page.keyboard.press(key); }
async function arrowTo(sel, key) {
  for (let i = 0; i < 20; i++) {
    if (await page.evaluate((s) => document.activeElement.matches(s), sel)) return;
    await page.keyboard.press(key);
  }
  throw new Error(`arrows never reached ${sel}`);
}

// The keyboard answers, per route key (right answers: see each item's correctResponse).
const answers = {
  Q01: async () => { await tabTo('input[type=radio]'); await arrowTo('input[value=B]', 'ArrowDown'); },
  Q02: async () => { await tabTo('input[value=A]'); await press('Space'); await tabTo('input[value=C]'); await press('Space'); },
  Q03: async () => { await tabTo('input[type=text]'); await page.keyboard.type('4'); },
  Q04: async () => { await tabTo('textarea'); await page.keyboard.type('Paris'); },
  Q05: async () => { await tabTo('select'); await page.keyboard.type('0'); },
  Q06: async () => { await tabTo('button[aria-label="Move 1 up"]'); await press('Enter'); await press('Enter'); },
  Q07: async () => {
    for (const [a, b] of [['Cat', 'Kitten'], ['Dog', 'Puppy']]) {
      await tabTo('select[aria-label="First of the pair"]', true);
      await page.keyboard.type(a);
      await press('Tab');
      await page.keyboard.type(b);
      await tabTo('.qti-pair-form button');
      await press('Enter');
    }
  },
  Q08: async () => {
    await tabTo('input[aria-label="Italy with Rome"]'); await press('Space');
    await tabTo('input[aria-label="Spain with Madrid"]'); await press('Space');
  },
  Q09: async () => {
    await tabTo('select[aria-label="Gap 1"]'); await page.keyboard.type('sun');
    await tabTo('select[aria-label="Gap 2"]'); await page.keyboard.type('moon');
  },
  Q10: async () => { await tabTo('input[type=radio]'); await arrowTo('input[value=H2]', 'ArrowRight'); },
  Q11: async () => { await tabTo('input[type=range]'); await press('ArrowRight', 7); },
  Q12: async () => { await tabTo('[data-identifier=C]'); await press('Space'); },
  Q13: async () => { for (const id of ['D', 'A', 'B', 'C']) { await tabTo(`[data-identifier=${id}]`); await press('Space'); } },
  Q14: async () => { await tabTo('[data-identifier=A]'); await press('Enter'); await tabTo('[data-identifier=B]'); await press('Enter'); },
  Q15: async () => { await tabTo('svg[role=application]'); await press('Shift+ArrowLeft'); await press('Shift+ArrowDown', 2); await press('Space'); },
  Q16: async () => { await tabTo('button.qti-end-attempt'); await press('Enter'); },
};

const responses = {};
const seenTypes = new Set();
for (let i = 0; i < dump.items.length; i++) {
  const { key, item } = dump.items[i];
  for (const it of item.interactions) seenTypes.add(it.type);
  await page.goto(`${base}/lab/lab.html?i=${i}`);
  await page.waitForSelector(`body[data-ready="${key}"]`);
  await page.waitForLoadState('networkidle');
  try {
    if (!answers[key]) throw new Error('no keyboard answer written for this item');
    await page.locator('body').focus();
    await answers[key]();
    responses[key] = await page.evaluate(() => window.labResponses());
    check(`${key} (${item.interactions.map((x) => x.type).join(', ')}) answered with the keyboard`, true);
  } catch (e) {
    check(`${key} answered with the keyboard`, false, e.message);
  }
  await page.screenshot({ path: path.join(artifacts, `renderer-${key}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const axe = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`${key}: axe-core finds no serious or critical violation`, bad.length === 0,
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; '));
}

// Content shown as authored: the package stylesheet applies, MathML stays MathML, images load.
await page.goto(`${base}/lab/lab.html?i=0`);
await page.waitForSelector('body[data-ready="Q01"]');
await page.waitForLoadState('networkidle');
check('the item stylesheet of the package applies',
  await page.evaluate(() => getComputedStyle(document.querySelector('.qti-itemBody p')).letterSpacing !== 'normal'));
await page.goto(`${base}/lab/lab.html?i=2`);
await page.waitForSelector('body[data-ready="Q03"]');
check('MathML is rendered as MathML elements',
  await page.evaluate(() => { const m = document.querySelector('msqrt'); return !!m && m.namespaceURI === 'http://www.w3.org/1998/Math/MathML'; }));
await page.goto(`${base}/lab/lab.html?i=11`);
await page.waitForSelector('body[data-ready="Q12"]');
await page.waitForLoadState('networkidle');
check('the package image of a graphic interaction loads',
  await page.evaluate(() => { const i = document.querySelector('.qti-stage-img'); return i.complete && i.naturalWidth === 200; }));
// Mouse/touch: a click on a hotspot selects it.
await page.click('[data-identifier=B]');
check('a click selects a hotspot', JSON.stringify(await page.evaluate(() => window.labResponses())) === '{"RESPONSE":"B"}');

const expectedTypes = ['choiceInteraction', 'textEntryInteraction', 'extendedTextInteraction', 'inlineChoiceInteraction',
  'orderInteraction', 'associateInteraction', 'matchInteraction', 'gapMatchInteraction', 'hottextInteraction',
  'sliderInteraction', 'hotspotInteraction', 'graphicOrderInteraction', 'graphicAssociateInteraction',
  'selectPointInteraction', 'endAttemptInteraction'];
check('the fixture covers every interaction the engine takes answers from', expectedTypes.every((x) => seenTypes.has(x)),
  expectedTypes.filter((x) => !seenTypes.has(x)).join(', '));
check('no script error and no CSP violation on the page', problems.length === 0, problems.join(' | '));

// ---- the engine scores what the browser collected ----
const respFile = path.join(work, 'responses.json');
fs.writeFileSync(respFile, JSON.stringify(responses, null, 1));
fs.copyFileSync(respFile, path.join(artifacts, 'renderer-responses.json'));
let run;
try {
  run = JSON.parse(execFileSync(outpost, ['qti', 'run', '-f', zip, '--responses', respFile]).toString());
} catch (e) {
  check('outpost qti run accepts the collected responses', false, String(e.stderr || e.message));
}
if (run) {
  for (const { key } of dump.items) {
    const score = run.items[key] && run.items[key].SCORE;
    check(`${key}: the keyboard answer scores 1`, score === 1, `SCORE ${score}, response ${JSON.stringify(responses[key])}`);
  }
  check('the whole test scores 16', run.test.TOTAL === 16, `TOTAL ${run.test.TOTAL}`);
}

await browser.close();
server.close();
fs.rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
