// @world central+device
// qti_pci_libs.test.mjs - TAO's PCIs whose modules ask for the shared libraries TAO's
// delivery provides (jQuery, lodash, Handlebars, TAO's OAT/util modules), which their exports
// do not carry: Outpost gives them to the PCI's sandboxed frame (src/qti/pci_libs.c). The
// fixture tests/browser/fixtures/pci-tao (our own PCIs, in TAO's export shapes: Q01 a likert
// scale in TAO's own form with TAO 3.2's ids, Q02 a text reader in TAO's own form with the
// older ids and a Handlebars template in its markup, Q03 a score scale in IMS PCI 1.0 as TAO
// exports it) is imported on central, synced to the device and taken on take.html:
//   - Q01 answered with the KEYBOARD (Tab into the frame, Space, arrow keys), Q02 with the
//     keyboard (Enter on Next page) and the MOUSE, Q03 with the keyboard (arrow keys, Space)
//     and the mouse;
//   - the PCIs' stylesheets (TAO's resources/stylesheets, a css! dependency) style the frames;
//   - each frame's CSP still lists its scripts by hash only (the libraries too), without
//     'unsafe-eval' (Handlebars' templates run without making code), fetches nothing;
//   - the results are synced to central, decrypted and scored there: Q01 1, Q02 1, Q03 1;
//   - axe-core finds no serious or critical violation on the page and inside each frame.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { axe, check, draftHolds, finish, launch, outpost, shot, sqlite, src, tabTo, visible, world } from './lib.mjs';

const axePath = createRequire(path.join(src, 'package.json')).resolve('axe-core/axe.min.js');
const dev = world.device.url;
const C = world.central.dir;
const work = fs.mkdtempSync(path.join(world.work, 'pcilibs-'));

const zip = path.join(work, 'pci-tao.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, path.join(src, 'tests/browser/fixtures/pci-tao')]);
const imp = outpost(['--data', C, 'import-qti', '-f', zip, '--label', 'TAO PCI']);
check("the package of TAO's PCIs imports on central (their shared libraries are provided)", imp.status === 0, imp.stderr);
const el = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'TAO PCI', '--test-takers', 'ta1', '--proctored', 'no']);
check('ta1 is eligible', el.status === 0, el.stderr);

const { browser, context, page: p, problems } = await launch(undefined, [/^401 .*\/api\/v1\/session$/]);
const mgr = await context.browser().newContext().then((c) => c.newPage());
async function login(page, who, landing) {
  await page.goto(`${dev}/`);
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'login', null, { timeout: 10000 });
  await page.keyboard.type(who);
  await page.keyboard.press('Tab');
  await page.keyboard.type(`pw-${who}`);
  await page.keyboard.press('Enter');
  await page.waitForURL(landing, { timeout: 60000 }).catch(() => {});
  return landing.test(page.url());
}
const sent = {};
p.on('request', (r) => {
  if (r.method() === 'POST' && /\/responses$/.test(r.url())) {
    try { const b = JSON.parse(r.postData()); sent[b.item_key] = b.responses; } catch (e) { /* not JSON */ }
  }
});
const outside = [];
p.on('requestfinished', (r) => { const u = r.url(); if (!u.startsWith(dev) && !u.startsWith('blob:') && !u.startsWith('data:')) outside.push(u); });

async function axeAll(name) {
  const frames = p.frames().filter((f) => f !== p.mainFrame() && /\/pci\//.test(f.url()));
  for (const f of frames) await f.evaluate(fs.readFileSync(axePath, 'utf8'));
  const v = await axe(p, name);
  check(`${name}: axe-core, the page: no serious or critical violation`, v.length === 0, v);
  for (const [i, f] of frames.entries()) {
    const fv = await axe(f, `${name}-frame${i + 1}`);
    check(`${name}: axe-core, inside the PCI's frame ${i + 1}: no serious or critical violation`, fv.length === 0, fv);
  }
}
const frame = () => p.frameLocator('iframe.qti-pci-frame').first();
async function waitProgress(text) {
  await p.waitForFunction((t) => document.getElementById('item-progress').textContent.includes(t), text, { timeout: 15000 });
}
// the frame's document as the page gets it: its CSP and body
async function frameDoc() {
  const u = await p.evaluate(() => document.querySelector('iframe.qti-pci-frame').getAttribute('src'));
  return p.evaluate(async (x) => {
    const r = await fetch(x, { credentials: 'same-origin' });
    return { status: r.status, csp: r.headers.get('content-security-policy'), body: await r.text() };
  }, u);
}
const strict = (csp) => /^default-src 'none'; script-src( 'sha256-[A-Za-z0-9+/=]+')+;/.test(csp) && /connect-src 'none'/.test(csp) &&
  /sandbox allow-scripts$/.test(csp) && !/unsafe-eval|unsafe-inline|'self'/.test(csp.split('; ')[1]);

try {
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', world.device.dir, 'sync']);
  check('the device syncs the delivery', s.status === 0, s.stderr);
  check('the test taker logs in', await login(p, 'ta1', /\/take\.html$/));
  await visible(p, 'button >> text="Start TAO PCI"');
  await tabTo(p, { text: 'Start TAO PCI' });
  await p.keyboard.press('Enter');
  await waitProgress('1 of 3');

  // ---- Q01: TAO's likert scale (taoQtiItem/portableLib ids), with the keyboard ----
  const f1 = frame();
  await f1.locator('input[type=radio]').first().waitFor({ timeout: 15000 });
  check('Q01: the likert scale draws its five points with jQuery', (await f1.locator('input[type=radio]').count()) === 5);
  check('Q01: OAT/util/html rendered its prompt', (await f1.locator('.prompt em').count()) === 1);
  check("Q01: the PCI's stylesheet (TAO's resources/stylesheets) styles the frame",
    (await f1.locator('ul.likert').evaluate((u) => getComputedStyle(u).display)) === 'flex');
  const d1 = await frameDoc();
  check("Q01: the frame holds the shared libraries inline, jQuery by TAO's ids",
    d1.body.includes('data-module="taoQtiItem/portableLib/jquery_2_1_1" data-aliases="IMSGlobal/jquery_2_1_1 jquery_2_1_1 jquery"') &&
    d1.body.includes('data-module="taoQtiItem/portableLib/OAT/util/event"') && d1.body.includes('data-module="taoQtiItem/portableLib/OAT/util/html"'));
  const scripts = (d1.body.match(/^<script[ >]/gm) || []).length;
  const hashes = (d1.csp.match(/'sha256-/g) || []).length;
  check("Q01: the frame's CSP lists every script by hash (the libraries too), no eval, nothing fetched", strict(d1.csp) && scripts === hashes, { scripts, hashes, csp: d1.csp });
  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  for (let i = 0; i < 6 && !(await f1.locator('input[type=radio]:focus').count()); i++) await p.keyboard.press('Tab');
  check('Q01: Tab moves the focus into the PCI, onto its scale', (await f1.locator('input[type=radio]:focus').count()) === 1);
  await p.keyboard.press('Space');
  for (let i = 0; i < 3; i++) await p.keyboard.press('ArrowRight');
  check('Q01: Space and the arrow keys choose 4', (await f1.locator('input[type=radio]:checked').getAttribute('value')) === '4');
  check('Q01: the frame tells the page', await draftHolds(p, 'Q01', '{"integer":4}'));
  await axeAll('Q01');
  await shot(p, 'Q01-likert');
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress('2 of 3');
  check("Q01: the page sent the PCI's response", JSON.stringify(sent.Q01) === '{"RESPONSE":{"base":{"integer":4}}}', sent.Q01);

  // ---- Q02: the text reader (IMSGlobal/OAT ids, a Handlebars template), keyboard and mouse ----
  const f2 = frame();
  await f2.getByRole('button', { name: 'Next page' }).waitFor({ timeout: 15000 });
  check('Q02: Handlebars drew the three pages from the template of the markup (no eval)',
    (await f2.locator('section.tr-page').count()) === 3 && (await f2.locator('section.tr-page[aria-label="Page 2"]').count()) === 1 &&
    (await f2.locator('section.tr-page:visible h3').textContent()) === 'The keeper');
  check('Q02: the stylesheet its code asks for (css!) styles the frame',
    (await f2.locator('.tr-nav').evaluate((n) => getComputedStyle(n).display)) === 'flex');
  check('Q02: the template escaped the text it was given', (await f2.locator('section.tr-page').nth(1).locator('p').textContent()).includes('lens & the light'));
  const d2 = await frameDoc();
  check("Q02: lodash and Handlebars come from Debian, inline, by hash", strict(d2.csp) && d2.body.includes('data-module="taoQtiItem/portableLib/handlebars"') &&
    d2.body.includes('data-module="outpost/handlebars-upstream"') && d2.body.includes('data-module="taoQtiItem/portableLib/lodash"'));
  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  for (let i = 0; i < 4 && (await f2.locator(':focus').textContent().catch(() => '')) !== 'Next page'; i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Enter');
  check('Q02: Enter on Next page turns to page 2', (await f2.locator('.js-current-page').textContent()) === 'Page 2 / 3');
  await f2.getByRole('button', { name: 'Next page' }).click();
  check('Q02: a click turns to the last page', (await f2.locator('.js-current-page').textContent()) === 'Page 3 / 3' &&
    (await f2.locator('section.tr-page:visible h3').textContent()) === 'The ship');
  check('Q02: the frame tells the page', await draftHolds(p, 'Q02', '{"boolean":true}'));
  await axeAll('Q02');
  await shot(p, 'Q02-reader');
  await p.click('#next');
  await waitProgress('3 of 3');
  check('Q02: the page sent true (the last page was read)', JSON.stringify(sent.Q02) === '{"RESPONSE":{"base":{"boolean":true}}}', sent.Q02);

  // ---- Q03: IMS PCI 1.0 as TAO exports it, keyboard then mouse ----
  const f3 = frame();
  await f3.locator('button.score-point').first().waitFor({ timeout: 15000 });
  check('Q03: the score scale draws its four points (its renderer found by the configuration)', (await f3.locator('button.score-point').count()) === 4);
  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  for (let i = 0; i < 4 && !(await f3.locator('button.score-point:focus').count()); i++) await p.keyboard.press('Tab');
  await p.keyboard.press('ArrowRight');
  await p.keyboard.press('ArrowRight');
  await p.keyboard.press('Space');
  check('Q03: the arrow keys and Space choose 3', (await f3.locator('button.score-point[aria-pressed="true"]').textContent()) === '3');
  await f3.locator('button.score-point', { hasText: '1' }).click();
  await f3.locator('button.score-point', { hasText: '3' }).click();
  check('Q03: the mouse chooses too', (await f3.locator('button.score-point[aria-pressed="true"]').textContent()) === '3');
  check('Q03: the frame tells the page', await draftHolds(p, 'Q03', '{"integer":3}'));
  await axeAll('Q03');
  await shot(p, 'Q03-score');
  await tabTo(p, '#finish');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#confirm[open]');
  await p.keyboard.press('Enter');
  check('the test finishes', await visible(p, '#done-title >> text=Test finished', 15000));
  check('Q03: the page sent 3', JSON.stringify(sent.Q03) === '{"RESPONSE":{"base":{"integer":3}}}', sent.Q03);
  check('no request left the device', outside.length === 0, outside);

  // ---- scored on central ----
  const push = outpost(['--data', world.device.dir, 'sync']);
  check('the device sends the result to central', push.status === 0, push.stderr);
  const dec = outpost(['--data', C, 'decrypt-results', '--all']);
  check('central decrypts the result', dec.status === 0, dec.stdout + dec.stderr);
  const rid = sqlite(C, 'SELECT id FROM results');
  const shown = outpost(['--data', C, 'results', 'show', rid]);
  let res = null;
  try { res = JSON.parse(shown.stdout); } catch (e) { check('results show prints JSON', false, shown.stdout + shown.stderr); }
  if (res) {
    const items = (res.outcome && res.outcome.items) || {};
    for (const k of ['Q01', 'Q02', 'Q03']) {
      const got = items[k] && items[k].outcomes && items[k].outcomes.SCORE;
      check(`${k} scores 1 on central`, got === 1, items[k]);
    }
    check('the test total is 3 on central', res.outcome.outcomes && res.outcome.outcomes.TOTAL === 3, res.outcome.outcomes);
  }
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
check('no script error or failed request', problems.length === 0, problems);
await finish(browser);
