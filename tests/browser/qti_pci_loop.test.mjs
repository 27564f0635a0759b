// @world central+device
// qti_pci_loop.test.mjs - PCIs whose code never ends, on the device's take page, against the
// real servers of tests/browser/run.sh. The fixture package tests/browser/fixtures/pci_loop
// (Q01 and Q04 ordinary choices, Q02 a PCI that loops for ever as soon as its code loads,
// Q03 a PCI that gives an answer, then loops for ever when its "Check my answer" button is
// clicked) is imported on central, made available to ta1 and ta2, synced to the device and
// taken:
//   - each frozen PCI frame runs in a process of its own (chromium's isolation of sandboxed
//     frames, an out-of-process frame for the DevTools protocol): while it loops, the page
//     keeps answering, its buttons work;
//   - the page's heartbeat with the frame (web/qti.js, pciHeartbeat) gives the frame up: it is
//     replaced by the message "This question stopped responding...", Q02 within the start
//     allowance, Q03 a few seconds after the click; the keyboard moves on from there;
//   - Q03 keeps the last answer its PCI gave before it froze (Jupiter, B), and the page sends
//     it; coming back to Q03 shows the message at once, without starting the PCI again;
//   - axe-core finds no serious or critical violation on the page with the message;
//   - the test finishes, its result goes to central, which scores it there: Q01 1, Q02 0,
//     Q03 1 (the PCI's last answer), Q04 1;
//   - ta2, in a chromium that keeps sandboxed frames in the page's process
//     (--disable-features=IsolateSandboxedIframes, as a browser without that isolation): Q02
//     freezes the whole page (the limit docs/qti.md states); the candidate ends the frozen
//     page (its renderer killed, as Chrome's "Page unresponsive: Exit page" does) and opens
//     the test again in a new tab: the page knows that Q02's PCI was running when the last
//     page died (its localStorage mark) and shows the message at once instead of freezing
//     again; the candidate moves on and finishes.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { axe, check, draftHolds, finish, launch, outpost, shot, sqlite, src, tabTo, visible, world } from './lib.mjs';

const dev = world.device.url;
const C = world.central.dir;
const D = world.device.dir;
const work = fs.mkdtempSync(path.join(world.work || '/tmp', 'pci-loop-'));

const zip = path.join(work, 'pci_loop.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, path.join(src, 'tests/browser/fixtures/pci_loop')]);
const imp = outpost(['--data', C, 'import-qti', '-f', zip, '--label', 'Frozen']);
check('the package of PCIs that loop for ever imports (their code is only text to the server)', imp.status === 0, imp.stderr);
const el = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'Frozen', '--test-takers', 'ta1,ta2', '--proctored', 'no']);
check('ta1 and ta2 are eligible', el.status === 0, el.stderr);

const { browser, context, page: p, problems } = await launch(undefined, [/^401 .*\/api\/v1\/session$/]);
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
const waitProgress = (text, page = p) => page.waitForFunction((t) => document.getElementById('item-progress').textContent.includes(t), text, { timeout: 15000 });
// the page answers (its own script runs) within `ms`, whatever the frame does
const pageAnswers = (ms = 3000, page = p) => Promise.race([
  page.evaluate(() => new Promise((r) => setTimeout(() => r(true), 50))).catch(() => false),
  new Promise((r) => setTimeout(() => r(false), ms)),
]);
// the PCI frames that run out of the page's process (targets of their own)
const cdp = await context.newCDPSession(p);
const ownProcess = async () => (await cdp.send('Target.getTargets')).targetInfos.filter((t) => t.type === 'iframe' && /\/pci\//.test(t.url)).length;
const stuck = '.qti-pci-stuck';
const message = 'This question stopped responding';

try {
  const mgr = await context.browser().newContext().then((c) => c.newPage());
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', D, 'sync']);
  check('the device syncs the delivery', s.status === 0, s.stderr);
  check('the test taker logs in', await login(p, 'ta1', /\/take\.html$/));
  await visible(p, 'button >> text="Start Frozen"');
  await p.click('button >> text="Start Frozen"');
  await waitProgress('1 of 4');

  // ---- Q01: an ordinary choice ----
  await p.getByLabel('Blue').check();
  await p.click('#next');
  await waitProgress('2 of 4');

  // ---- Q02: the PCI loops as soon as its code loads ----
  const t2 = Date.now();
  await p.waitForSelector('iframe.qti-pci-frame', { timeout: 15000 });
  // (the frame's own target comes once its document is loading: later under load)
  for (let i = 0; i < 60 && (await ownProcess()) !== 1; i++) await new Promise((r) => setTimeout(r, 250));
  check('Q02: the looping PCI\'s frame runs in a process of its own (chromium isolates sandboxed frames)', (await ownProcess()) === 1);
  check('Q02: while the PCI loops, the page answers', await pageAnswers());
  check('Q02: the frame is replaced by the message, within the start allowance',
    await visible(p, `${stuck} >> text=${message}`, 45000), (Date.now() - t2) / 1000);
  console.log(`# Q02: the message after ${((Date.now() - t2) / 1000).toFixed(1)} s`);
  const text2 = await p.locator(stuck).textContent();
  check('Q02: the message says that this question gave no answer', /before it gave an answer/.test(text2), text2);
  check('Q02: no PCI frame is left on the page', (await p.locator('iframe.qti-pci-frame').count()) === 0);
  const v2 = await axe(p, 'Q02-stuck');
  check('Q02: axe-core, the page with the message: no serious or critical violation', v2.length === 0, v2);
  await shot(p, 'Q02-stuck');
  // the keyboard moves on
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress('3 of 4');

  // ---- Q03: the PCI answers, then loops when "Check my answer" is clicked ----
  const f3 = p.frameLocator('iframe.qti-pci-frame');
  await f3.getByRole('button', { name: 'Jupiter' }).click({ timeout: 15000 });
  check('Q03: the PCI works before it freezes (Jupiter chosen)', (await f3.getByRole('status').textContent()) === 'You chose Jupiter.');
  // the frame reports its response after each gesture, by message: the page has it then
  check('Q03: the frame tells the page', await draftHolds(p, 'Q03', '{"identifier":"B"}'));
  const t3 = Date.now();
  // the click never completes: the frame's process is stuck in the handler
  await f3.getByRole('button', { name: 'Check my answer' }).click({ timeout: 2000, noWaitAfter: true }).catch(() => {});
  check('Q03: while the PCI loops after the click, the page answers', await pageAnswers());
  check('Q03: the frame is replaced by the message a few seconds after the click',
    await visible(p, `${stuck} >> text=${message}`, 20000) && Date.now() - t3 < 15000, (Date.now() - t3) / 1000);
  console.log(`# Q03: the message ${((Date.now() - t3) / 1000).toFixed(1)} s after the click`);
  const text3 = await p.locator(stuck).textContent();
  check("Q03: the message says that this question's last answer is kept", /so is the last answer this question gave/.test(text3), text3);
  const focus = await p.evaluate((sel) => document.activeElement === document.querySelector(sel), stuck);
  check('Q03: the focus, which was in the frozen frame, is on the message', focus);
  const v3 = await axe(p, 'Q03-stuck');
  check('Q03: axe-core, the page with the message: no serious or critical violation', v3.length === 0, v3);
  await shot(p, 'Q03-stuck');
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress('4 of 4');
  check("Q03: the page sent the PCI's last answer, given before it froze (B)",
    JSON.stringify(sent.Q03) === '{"RESPONSE":{"base":{"identifier":"B"}}}', sent.Q03);

  // ---- Q04: an ordinary choice, then back to Q03 ----
  await p.getByLabel('Paris').check();
  await p.click('#prev');
  await waitProgress('3 of 4');
  check('Q03, come back to: the message at once, the PCI not started again',
    await visible(p, `${stuck} >> text=${message}`, 3000) && (await p.locator('iframe.qti-pci-frame').count()) === 0);
  await p.click('#finish');
  await p.waitForSelector('#confirm[open]');
  await p.keyboard.press('Enter');
  check('ta1 finishes', await visible(p, '#done-title >> text=Test finished', 15000));
  check('Q04: the page sent Paris (C)', JSON.stringify(sent.Q04) === '{"RESPONSE":"C"}', sent.Q04);

  // ---- the result, scored on central ----
  await mgr.goto(`${dev}/sync.html`);
  await mgr.waitForSelector('#start:not([disabled])', { timeout: 15000 }).catch(() => {});
  await mgr.click('#start');
  await mgr.waitForFunction(() => document.querySelectorAll('#history-rows tr').length >= 2 && !document.getElementById('start').disabled, null, { timeout: 60000 }).catch(() => {});
  check('the sync brings the result to central', await visible(mgr, '#sync-state >> text=Synchronisation finished successfully.', 1000));
  const dec = outpost(['--data', C, 'decrypt-results', '--all']);
  check('central decrypts the results (decrypt-results)', dec.status === 0, dec.stdout + dec.stderr);
  const rid = sqlite(C, "SELECT r.id FROM results r JOIN deliveries d ON d.id = r.delivery_id WHERE d.label = 'Frozen'");
  const shown = outpost(['--data', C, 'results', 'show', rid]);
  let res = null;
  try { res = JSON.parse(shown.stdout); } catch (e) { check('results show prints JSON', false, shown.stdout + shown.stderr); }
  const items = (res && res.outcome && res.outcome.items) || {};
  const score = (k) => items[k] && items[k].outcomes && items[k].outcomes.SCORE;
  check('central scores Q01 (Blue) 1', score('Q01') === 1, items.Q01);
  check('central scores Q02 (the PCI that never started) 0', score('Q02') === 0, items.Q02);
  check("central scores Q03 1: the PCI's last answer (B) kept", score('Q03') === 1, items.Q03);
  check('central scores Q04 (Paris) 1', score('Q04') === 1, items.Q04);
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
check('no script error or failed request', problems.length === 0, problems);
await browser.close();

// ---- ta2: a browser that keeps the sandboxed frame in the page's process ----
const b2 = await launch(undefined, [/^401 .*\/api\/v1\/session$/], ['--disable-features=IsolateSandboxedIframes']);
try {
  const p2 = b2.page;
  check('ta2 logs in (a chromium without isolated sandboxed frames)', await login(p2, 'ta2', /\/take\.html$/));
  await visible(p2, 'button >> text="Start Frozen"');
  await p2.click('button >> text="Start Frozen"');
  await waitProgress('1 of 4', p2);
  await p2.getByLabel('Blue').check();
  const testUrl = p2.url();
  // Q02's frame loops as soon as it loads, and the page with it: nothing waits on the page
  await p2.click('#next', { noWaitAfter: true, timeout: 5000 }).catch(() => {});
  await new Promise((r) => setTimeout(r, 4000));
  check('ta2, Q02: without that isolation the looping PCI freezes the whole page (the limit)', !(await pageAnswers(4000, p2)));
  // the candidate ends the frozen page: its renderer, the one busy for seconds, is killed
  const bs = await b2.browser.newBrowserCDPSession();
  const procs = (await bs.send('SystemInfo.getProcessInfo')).processInfo.filter((x) => x.type === 'renderer').sort((a, b) => b.cpuTime - a.cpuTime);
  check('ta2: the frozen renderer is found', procs.length > 0 && procs[0].cpuTime > 1, procs);
  if (procs.length) process.kill(procs[0].id, 'SIGKILL');
  // and opens the test again, in a new tab
  const again = await b2.context.newPage();
  const problemsAgain = [];
  again.on('pageerror', (e) => problemsAgain.push(String(e)));
  await again.goto(testUrl);
  await waitProgress('2 of 4', again);
  check('ta2, Q02 again: the page knows the PCI froze the last page: the message at once, no frame',
    await visible(again, `${stuck} >> text=${message}`, 5000) && (await again.locator('iframe.qti-pci-frame').count()) === 0);
  check('ta2, Q02 again: the page answers', await pageAnswers(3000, again));
  await again.click('#next');
  await waitProgress('3 of 4', again);
  await again.click('#finish');
  await again.waitForSelector('#confirm[open]');
  await again.keyboard.press('Enter');
  check('ta2 finishes', await visible(again, '#done-title >> text=Test finished', 15000));
  check('ta2: no script error on the page opened again', problemsAgain.length === 0, problemsAgain);
} catch (e) {
  check('ta2: the flow ran to the end', false, e.stack || String(e));
  for (const [i, pg] of b2.context.pages().entries()) await shot(pg, `ta2-failed-${i}`).catch(() => {});
}
await finish(b2.browser);
