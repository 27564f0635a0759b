// @world central+device
// tao_samples.test.mjs - TAO's own QTI packages (../shared/samples/qti/tao, OUTPOST_SAMPLES)
// taken in the browser against the real servers of tests/browser/run.sh: every package of the
// folder but invalid/ is tried with `outpost import-qti` on central; each one that imports gets
// an eligibility (test taker ta3, A North, not proctored); the device is enrolled (a sync
// manager's first login) and synced; then the test taker starts each of those tests on
// take.html and answers whatever interactions its items have (choice, slider, ...) with the
// keyboard, moving on with Next and ending with Finish, until the finished page. When the
// samples folder is absent the test says so and is skipped (77).
import fs from 'node:fs';
import path from 'node:path';
import { axe, check, deviceLogin as login, finish, openWorld, outpost, shot, src, sqlite, tabTo, visible, world } from './lib.mjs';

const samples = path.join(process.env.OUTPOST_SAMPLES || path.join(src, '../shared/samples'), 'qti/tao');
if (!fs.existsSync(samples)) {
  console.log(`SKIP: the TAO samples folder ${samples} is absent: TAO's packages are not taken in this run`);
  process.exit(77);
}
const started = Date.now();
const dev = world.device.url;
const C = world.central.dir;
const zips = [];
for (const d of fs.readdirSync(samples).sort()) {
  if (d === 'invalid' || !fs.statSync(path.join(samples, d)).isDirectory()) continue;
  for (const f of fs.readdirSync(path.join(samples, d)).sort()) if (f.endsWith('.zip')) zips.push(path.join(samples, d, f));
}
const labels = [];
for (const z of zips) {
  const label = `TAO ${path.basename(z, '.zip')}`;
  const r = outpost(['--data', C, 'import-qti', '-f', z, '--label', label]);
  if (r.status !== 0) { console.log(`# ${path.basename(z)} does not import: ${r.stderr.trim().split('\n')[0]}`); continue; }
  const e = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', label, '--test-takers', 'ta3', '--proctored', 'no']);
  if (check(`${path.basename(z)} imports on central, ta3 eligible`, e.status === 0, e.stderr)) labels.push(label);
}
check('at least one TAO package imports', labels.length > 0, zips);

const w = await openWorld({ allow: [/^401 .*\/api\/v1\/session$/] });
const { browser } = w;
const mgr = await w.page();
const p = await w.page(undefined, [/^409 .*\/move$/]);
// Answers every interaction the item shows with the keys (a choice: the second option, or the
// first box; a slider: two steps right; a text: a word; a list: its second entry).
async function answerItem() {
  const kinds = await p.evaluate(() => [...document.querySelectorAll('#item input, #item select, #item textarea')]
    .map((x) => x.type || x.tagName.toLowerCase()));
  const done = new Set();
  const fields = await p.$$('#item input, #item select, #item textarea');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const info = await f.evaluate((x) => ({ type: x.type || x.tagName.toLowerCase(), name: x.name || x.id }));
    const group = `${info.type}:${info.name}`;
    if (info.type === 'radio' && done.has(group)) continue;
    done.add(group);
    // (Tab enters a group of radio buttons at its checked one, or its first)
    await f.evaluate((x) => {
      const all = x.type === 'radio' && x.name ? document.querySelectorAll(`#item input[type=radio][name="${CSS.escape(x.name)}"]`) : [x];
      for (const y of all) y.dataset.target = '1';
    });
    try { await tabTo(p, '[data-target="1"]'); } catch (e) {
      throw new Error(`${e.message}; marked ${await p.evaluate(() => document.querySelectorAll('[data-target]').length)}, focus on ${await p.evaluate(() => document.activeElement.outerHTML.slice(0, 200))}, ${await p.evaluate(() => [...document.querySelectorAll('[data-target]')].map((x) => `${x.outerHTML} ${x.checked} ${x.disabled} ${getComputedStyle(x).visibility}`).join(' / '))} ${await p.textContent('#item-progress')}, ${info.type} ${info.name}`);
    }
    await p.evaluate(() => { for (const y of document.querySelectorAll('[data-target]')) delete y.dataset.target; });
    if (info.type === 'radio') await p.keyboard.press('ArrowDown');
    else if (info.type === 'checkbox') await p.keyboard.press('Space');
    else if (info.type === 'range') { await p.keyboard.press('ArrowRight'); await p.keyboard.press('ArrowRight'); }
    else if (info.type === 'select-one') await p.keyboard.press('ArrowDown');
    else if (info.type === 'text' || info.type === 'textarea') await p.keyboard.type('answer');
  }
  return kinds;
}

try {
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', world.device.dir, 'sync']);
  check('the device syncs the TAO deliveries', s.status === 0, s.stderr);
  check('the test taker logs in', await login(p, 'ta3', /\/take\.html$/));
  for (const label of labels) {
    const t0 = Date.now();
    await p.goto(`${dev}/take.html`);
    if (!check(`${label}: listed`, await visible(p, `button >> text="Start ${label}"`))) continue;
    await tabTo(p, { text: `Start ${label}` });
    await p.keyboard.press('Enter');
    const kinds = new Set();
    const seenItems = new Set();
    let count = 0;
    let ended = false;
    for (let n = 0; n < 30 && !ended; n++) {
      if (!(await visible(p, '#runner #item .qti-itemBody, #done', 15000))) break;
      if (await p.isVisible('#done')) { ended = true; break; }
      const progress = await p.textContent('#item-progress');
      const m = /(\d+) of (\d+)/.exec(progress);
      if (m) { seenItems.add(Number(m[1])); count = Number(m[2]); }
      if (n === 0 && /SkippingNotAllowed/.test(label)) {
        // Next without an answer where skipping is not allowed: the server refuses, the page says so
        await tabTo(p, '#next');
        await p.keyboard.press('Enter');
        check(`${label}: Next without an answer is refused, saying why`, await visible(p, '#invalid', 8000), await p.textContent('#invalid'));
        check(`${label}: and the test stays on the item`, (await p.textContent('#item-progress')) === progress);
        await shot(p, 'skipping-not-allowed-refused');
      }
      for (const k of await answerItem()) kinds.add(k);
      if (n === 0) await shot(p, `${label.replace(/\W+/g, '_')}-item`);
      if (await p.isVisible('#next')) {
        await tabTo(p, '#next');
        await p.keyboard.press('Enter');
        await p.waitForFunction((before) => document.getElementById('item-progress').textContent !== before ||
          !document.getElementById('done').hidden, progress, { timeout: 15000 }).catch(() => {});
        if ((await p.textContent('#item-progress')) === progress && !(await p.isVisible('#done'))) {
          check(`${label}: ${progress} taken`, false, await p.textContent('#invalid'));
          break;
        }
      } else {
        await tabTo(p, '#finish');
        await p.keyboard.press('Enter');
        await p.waitForSelector('#confirm[open]');
        await p.keyboard.press('Enter');
        ended = await visible(p, '#done-title >> text=Test finished', 15000);
      }
    }
    ended = ended || (await visible(p, '#done-title >> text=Test finished', 5000));
    check(`${label}: ${seenItems.size} of ${count} items answered (${[...kinds].join(', ') || 'no control'}) and finished (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      ended && count > 0 && seenItems.size === count, [...seenItems]);
  }
  const v = await axe(p, 'finished');
  check('axe: none on the finished page', v.length === 0, v);
  const n = sqlite(world.device.dir, "SELECT count(*) FROM executions WHERE state = 'finished'");
  check('every TAO test taken is finished on the device, its result sealed', Number(n) === labels.length, n);
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
check('no script error, CSP violation or refusal', w.problems().length === 0, w.problems());
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
await finish(browser);
