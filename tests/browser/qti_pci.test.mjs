// @world central+device
// qti_pci.test.mjs - Portable Custom Interactions on the device's take page, against the real
// servers of tests/browser/run.sh. The fixture package tests/browser/fixtures/pci (Q01 a
// likert scale in TAO's PCI form, Q02 a text reader in IMS PCI 1.0's form with an image of
// the package, Q03 a hostile PCI beside a likert scale) is imported on central with this
// test's own listening URL as the hostile PCI's canary, made available to ta1, synced to the
// device and taken on take.html:
//   - Q01 answered with the KEYBOARD (Tab into the PCI's frame, Space, arrow keys), Q02 with
//     the keyboard (Enter on its own Next page button) and the MOUSE, the likert scale of Q03
//     with the mouse;
//   - each PCI runs in <iframe sandbox="allow-scripts"> whose document has its own CSP
//     (scripts by hash only, default-src 'none', connect-src 'none', sandbox), and the image
//     of Q02 reaches it as a blob the page hands over;
//   - the hostile PCI's tries (fetch, XHR, image, WebSocket, script, beacon, the parent's and
//     top's document, top.location, cookie, storage, popup, the sibling frame, forged
//     messages to the sibling and to the page, the microphone and the camera, a forged
//     'microphone' message) are all stopped: it reports each "blocked",
//     the canary server sees no request, the page is untouched, and the sibling likert keeps
//     its own answer;
//   - the text reader's state (the page shown, which its response does not say) survives: a
//     reload shows page 2 again (the tab's draft), and after leaving the item with the
//     keyboard, a reload and a return, page 3 (the device kept it, sealed: not in clear in
//     its database), while the response is the same;
//   - the responses the page sent (the QTI JSON binding) are scored by `outpost qti run`
//     (Q01 1, Q02 1, the test 2), and the test finishes with its result sealed;
//   - axe-core finds no serious or critical violation on the page and inside each frame.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { axe, check, deviceLogin as login, draftHolds, finish, launch, outpost, shot, sqlite, src, tabTo, visible, world } from './lib.mjs';

const axePath = createRequire(path.join(src, 'package.json')).resolve('axe-core/axe.min.js');
const dev = world.device.url;
const C = world.central.dir;
const work = fs.mkdtempSync(path.join(world.work, 'pci-'));

// ---- the canary: any request it gets is a PCI that reached the network ----
const canaryHits = [];
const canary = http.createServer((req, res) => { canaryHits.push(`${req.method} ${req.url}`); res.writeHead(200, { 'Access-Control-Allow-Origin': '*' }); res.end('ok'); });
canary.on('upgrade', (req, sock) => { canaryHits.push(`UPGRADE ${req.url}`); sock.destroy(); });
await new Promise((r) => canary.listen(0, '127.0.0.1', r));
const canaryUrl = `http://127.0.0.1:${canary.address().port}/canary`;

// ---- the package, with the canary's URL, imported and made available to ta1 ----
const fixture = path.join(work, 'pci');
fs.cpSync(path.join(src, 'tests/browser/fixtures/pci'), fixture, { recursive: true });
const hostileXml = path.join(fixture, 'items/hostile.xml');
fs.writeFileSync(hostileXml, fs.readFileSync(hostileXml, 'utf8').replace('http://127.0.0.1:9/canary', canaryUrl));
const zip = path.join(work, 'pci.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, fixture]);
const imp = outpost(['--data', C, 'import-qti', '-f', zip, '--label', 'PCI']);
check('the PCI package imports on central', imp.status === 0, imp.stderr);
const el = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'PCI', '--test-takers', 'ta1', '--proctored', 'no']);
check('ta1 is eligible', el.status === 0, el.stderr);

const allow = [/^401 .*\/api\/v1\/session$/, /^404 .*\/pci\/items\/nothing\.js$/];
const { browser, context, page: p, problems } = await launch(undefined, allow);
const mgr = await context.browser().newContext().then((c) => c.newPage());

// the responses the page sends, per item key, and the PCIs' states sent with them or alone
const sent = {}, sentStates = {};
p.on('request', (r) => {
  if (r.method() === 'POST' && /\/responses$/.test(r.url())) {
    try {
      const b = JSON.parse(r.postData());
      if (b.responses) sent[b.item_key] = b.responses;
      if (b.pci_states) sentStates[b.item_key] = b.pci_states;
    } catch (e) { /* not JSON */ }
  }
});
// requests to another origin that got an answer (the browser reports the ones CSP stops as
// failed, with the reason)
const outside = [], stopped = [];
const foreign = (u) => !u.startsWith(dev) && !u.startsWith('blob:') && !u.startsWith('data:');
p.on('requestfinished', (r) => { if (foreign(r.url())) outside.push(r.url()); });
p.on('requestfailed', (r) => { if (foreign(r.url())) stopped.push(`${r.url()} ${r.failure() && r.failure().errorText}`); });

// axe-core on the page (frames left to their own run) and inside every PCI frame
async function axeAll(name) {
  const frames = p.frames().filter((f) => f !== p.mainFrame() && /\/pci\//.test(f.url()));
  // axe in the frames first, so that the page's run reaches into them
  for (const f of frames) await f.evaluate(fs.readFileSync(axePath, 'utf8'));
  const v = await axe(p, name);
  check(`${name}: axe-core, the page: no serious or critical violation`, v.length === 0, v);
  for (const [i, f] of frames.entries()) {
    const fv = await axe(f, `${name}-frame${i + 1}`);
    check(`${name}: axe-core, inside PCI frame ${i + 1}: no serious or critical violation`, fv.length === 0, fv);
  }
}
const frameOf = (n) => p.frameLocator('iframe.qti-pci-frame').nth(n);
const pageHolds = (key, want, ms) => draftHolds(p, key, want, ms);
async function waitProgress(text) {
  await p.waitForFunction((t) => document.getElementById('item-progress').textContent.includes(t), text, { timeout: 15000 });
}

try {
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', world.device.dir, 'sync']);
  check('the device syncs the PCI delivery', s.status === 0, s.stderr);
  check('the test taker logs in', await login(p, 'ta1', /\/take\.html$/));
  await visible(p, 'button >> text="Start PCI"');
  await tabTo(p, { text: 'Start PCI' });
  await p.keyboard.press('Enter');
  await waitProgress('1 of 3');

  // ---- Q01: the likert scale, with the keyboard ----
  const f1 = frameOf(0);
  await f1.locator('input[type=radio]').first().waitFor({ timeout: 15000 });
  const frameAttrs = await p.evaluate(() => {
    const f = document.querySelector('iframe.qti-pci-frame');
    return { sandbox: f.getAttribute('sandbox'), title: f.title, src: f.getAttribute('src') };
  });
  check('Q01: the PCI runs in <iframe sandbox="allow-scripts"> (no allow-same-origin), with a title',
    frameAttrs.sandbox === 'allow-scripts' && /likertInteraction/.test(frameAttrs.title), frameAttrs);
  check('Q01: the frame shows the five points of the scale', (await f1.locator('input[type=radio]').count()) === 5);
  const csp = await p.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, csp: r.headers.get('content-security-policy'), pp: r.headers.get('permissions-policy'), body: await r.text() };
  }, frameAttrs.src);
  check("the frame's document has its own CSP: scripts by hash only, nothing fetched, sandboxed",
    csp.status === 200 && /^default-src 'none'; script-src( 'sha256-[A-Za-z0-9+/=]+')+;/.test(csp.csp) &&
    /connect-src 'none'/.test(csp.csp) && /sandbox allow-scripts$/.test(csp.csp) && !/'self'[^;]*;.*script/.test(csp.csp.split('; ')[1]) &&
    !/unsafe-eval|'self'/.test(csp.csp.split('; ')[1]), csp.csp);
  check('the frame is denied the microphone and the camera', /microphone=\(\)/.test(csp.pp) && /camera=\(\)/.test(csp.pp), csp.pp);
  check("the frame's document holds the package's modules inline", csp.body.includes('data-module="likertInteraction/runtime/js/renderer"'));
  const nothing = await p.evaluate(async (u) => (await fetch(u.replace(/\/pci\/.*$/, '/pci/items/nothing.js'))).status, frameAttrs.src);
  check('a frame for a module that is no PCI entry of the package: 404', nothing === 404, nothing);
  const anon = await fetch(new URL(frameAttrs.src, dev));
  check('the frame without a test taker session: 401', anon.status === 401, anon.status);

  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  for (let i = 0; i < 6 && !(await f1.locator('input[type=radio]:focus').count()); i++) await p.keyboard.press('Tab');
  check('Q01: Tab moves the focus into the PCI, onto its scale', (await f1.locator('input[type=radio]:focus').count()) === 1);
  await p.keyboard.press('Space');
  for (let i = 0; i < 3; i++) await p.keyboard.press('ArrowRight');
  check('Q01: Space and the arrow keys choose 4', (await f1.locator('input[type=radio]:checked').getAttribute('value')) === '4');
  check('Q01: the frame tells the page', await pageHolds('Q01', '{"integer":4}'));
  await axeAll('Q01');
  await shot(p, 'Q01-likert');
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress('2 of 3');
  check('Q01: the page sent the PCI\'s response in the JSON binding', JSON.stringify(sent.Q01) === '{"RESPONSE":{"base":{"integer":4}}}', sent.Q01);

  // ---- Q02: the text reader, with the mouse ----
  const f2 = frameOf(0);
  await f2.getByRole('button', { name: 'Next page' }).waitFor({ timeout: 15000 });
  const img = await f2.locator('img').evaluate((i) => new Promise((r) => {
    const done = () => r({ src: i.src.slice(0, 5), w: i.naturalWidth, alt: i.alt });
    if (i.complete) done(); else { i.onload = done; i.onerror = done; }
  }));
  check("Q02: the markup's image of the package shows, handed over as a blob", img.src === 'blob:' && img.w > 0, img);
  // the keyboard turns one page (Tab into the frame: its first control is Next page, since
  // Previous page is disabled), the mouse the next
  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  const focused = await f2.locator(':focus').textContent().catch(() => '');
  await p.keyboard.press('Enter');
  check('Q02: Tab reaches the PCI\'s Next page button, Enter turns to page 2',
    focused === 'Next page' && (await f2.getByRole('status').textContent()) === 'Page 2 of 3', focused);
  // the PCI's state (the page shown) survives a reload: the tab's draft holds it (once the
  // frame's message with it came)
  await pageHolds('Q02', '{\\"at\\":1}');
  const draft = await p.evaluate(() => Object.entries(sessionStorage).filter(([k]) => /^outpost-draft2:.*:Q02$/.test(k)).map(([, v]) => JSON.parse(v))[0] || null);
  check("Q02: the tab's draft holds the reader's state beside its response", draft && draft.states && draft.states.RESPONSE === '{"at":1}', draft);
  await p.reload();
  await waitProgress('2 of 3');
  const f2r = frameOf(0);
  await f2r.getByRole('button', { name: 'Next page' }).waitFor({ timeout: 15000 });
  check('Q02: after a reload the reader shows page 2 again (its state), not page 1',
    (await f2r.getByRole('status').textContent()) === 'Page 2 of 3', await f2r.getByRole('status').textContent());
  await f2r.getByRole('button', { name: 'Next page' }).click();
  check('Q02: a click turns to the last page', (await f2r.getByRole('status').textContent()) === 'Page 3 of 3');
  check('Q02: the frame tells the page', await pageHolds('Q02', '"identifier":["p1","p2","p3"]'));
  await axeAll('Q02');
  await shot(p, 'Q02-reader');
  // leaving the item with the keyboard (Previous) sends the response and the state
  await p.locator('body').focus();
  await tabTo(p, '#prev');
  await p.keyboard.press('Enter');
  await waitProgress('1 of 3');
  check('Q02: the page sent the pages read as a list', JSON.stringify(sent.Q02) === '{"RESPONSE":{"list":{"identifier":["p1","p2","p3"]}}}', sent.Q02);
  check("Q02: the reader's state went with it", JSON.stringify(sentStates.Q02) === '{"RESPONSE":"{\\"at\\":2}"}', sentStates.Q02);
  const kept = sqlite(world.device.dir, "SELECT count(*) FROM executions WHERE state = 'active' AND session LIKE '%pci_states%' AND instr(session, '\\\"at') = 0");
  check("the device keeps the PCI's state sealed: the execution's session holds it, not in clear", Number(kept) === 1, kept);
  // a reload (nothing of Q02 in the tab any more) and a return, with the keyboard
  await p.reload();
  await waitProgress('1 of 3');
  const left = await p.evaluate(() => Object.keys(sessionStorage).filter((k) => /:Q02$/.test(k)));
  check("Q02: the tab's draft of the item is gone once sent", left.length === 0, left);
  // Q01's likert (TAO's form) gave its state as an object: it comes back an object, from the device
  const restored = await frameOf(0).locator('[data-restored]').getAttribute('data-restored', { timeout: 15000 }).catch(() => null);
  check("Q01: TAO's setSerializedState gets back the object getSerializedState gave (kept by the device)", restored === 'object:4', restored);
  await p.locator('body').focus();
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress('2 of 3');
  const f2b = frameOf(0);
  await f2b.getByRole('button', { name: 'Previous page' }).waitFor({ timeout: 15000 });
  check('Q02: back on the reader after a reload, it shows page 3 again (the state the device kept)',
    (await f2b.getByRole('status').textContent()) === 'Page 3 of 3', await f2b.getByRole('status').textContent());
  await p.waitForTimeout(700);
  await axeAll('Q02-back');
  await p.click('#next');
  await waitProgress('3 of 3');

  // ---- Q03: the hostile PCI, beside a likert scale ----
  const before = await p.evaluate(() => ({ url: location.href, title: document.title, text: document.getElementById('item-progress').textContent }));
  const f3 = frameOf(1);
  await f3.locator('input[type=radio]').first().waitFor({ timeout: 15000 });
  // every try of the hostile PCI settles within 3 s of its start (later under load), then its
  // report ends with "done"
  check('Q03: the hostile PCI settles its tries', await pageHolds('Q03', ' done"', 30000));
  await f3.locator('label', { hasText: /^2$/ }).click();
  check('Q03: the likert frame tells the page', await pageHolds('Q03', '"LIKERT":{"base":{"integer":2}}'));
  const after = await p.evaluate(() => ({
    url: location.href, title: document.title, text: document.getElementById('item-progress').textContent,
    takenOver: document.body.textContent.includes('taken over'), frames: document.querySelectorAll('iframe.qti-pci-frame').length,
    mic: document.querySelectorAll('.qti-pci-mic').length,
  }));
  check('Q03: the page is untouched (same address, title, item, no text written into it)',
    after.url === before.url && after.title === before.title && after.text === before.text && !after.takenOver && after.frames === 2, after);
  check("Q03: the hostile PCI's forged 'microphone' message opens nothing (it is bound to no file)", after.mic === 0, after);
  const note = await p.locator('.qti-pci-note:visible').textContent({ timeout: 5000 }).catch(() => '');
  check("Q03: the hostile PCI's state of 70 KB is not kept, and the page says so under it",
    /^This question's own state \(68 KB\) is over the 64 KB that can be kept: your answer is kept, but if the page is reloaded or you come back, the question starts again from your answer\.$/.test(note), note);
  check("Q03: the sibling likert scale is its own (five points, no forged markup)",
    (await f3.locator('input[type=radio]').count()) === 5 && !(await f3.locator('body').textContent()).includes('forged'));
  await axeAll('Q03');
  await shot(p, 'Q03-hostile');
  await tabTo(p, '#finish');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#confirm[open]');
  await p.keyboard.press('Enter');
  check('the test finishes', await visible(p, '#done-title >> text=Test finished', 15000));
  const report = sent.Q03 && sent.Q03.HOSTILE && sent.Q03.HOSTILE.base ? sent.Q03.HOSTILE.base.string : '';
  const words = Object.fromEntries(report.split(' ').filter((w) => w.includes(':')).map((w) => w.split(':')));
  check('Q03: the hostile PCI ran all its tries', report.endsWith('done') && Object.keys(words).length >= 15, report);
  check('Q03: the beacon is at most queued (the canary says whether it left)', words.beacon === 'blocked' || words.beacon === 'queued', words.beacon);
  for (const k of ['fetch', 'fetch-same-origin', 'xhr', 'image', 'websocket', 'script', 'parent-document',
    'top-document', 'top-location', 'cookie', 'storage', 'popup', 'sibling-document', 'microphone', 'camera'])
    check(`Q03: the hostile PCI's try "${k}" is stopped`, words[k] === 'blocked', words[k] || 'not tried');
  check("Q03: the hostile PCI's state was sent as none, the likert's as its own",
    sentStates.Q03 && sentStates.Q03.HOSTILE === null && sentStates.Q03.LIKERT === '{"value":2}', sentStates.Q03);
  check('Q03: the likert scale beside it keeps its own answer (2), not the forged one', JSON.stringify(sent.Q03 && sent.Q03.LIKERT) === '{"base":{"integer":2}}', sent.Q03);
  check('no request reached the canary (network)', canaryHits.length === 0, canaryHits);
  check('no request to another origin got an answer', outside.length === 0, outside);
  console.log(`# stopped by the browser: ${stopped.join('; ') || 'none reported'}`);

  const n = sqlite(world.device.dir, "SELECT count(*) FROM executions WHERE state = 'finished'");
  check('the execution is finished on the device, its result sealed', Number(n) === 1, n);

  // ---- the engine scores what the page sent ----
  const respFile = path.join(work, 'responses.json');
  fs.writeFileSync(respFile, JSON.stringify(sent));
  const run = outpost(['qti', 'run', '-f', zip, '--responses', respFile]);
  if (check('outpost qti run scores the responses the page sent', run.status === 0, run.stderr)) {
    const out = JSON.parse(run.stdout);
    check('Q01 (likert 4) scores 1', out.items.Q01.SCORE === 1, out.items.Q01);
    check('Q02 (every page read) scores 1', out.items.Q02.SCORE === 1, out.items.Q02);
    check('the test scores 2', out.test.TOTAL === 2, out.test);
  }
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
// CSP reports of the hostile PCI's stopped tries are expected; anything else is a problem
const unexpected = problems.filter((m) => !/Content Security Policy|ERR_BLOCKED|sandbox|Blocked|blocked|Failed to load resource|WebSocket|Unsafe attempt|cross-origin frame|SecurityError/i.test(m));
check('no other script error or failed request', unexpected.length === 0, unexpected);
canary.close();
await finish(browser);
