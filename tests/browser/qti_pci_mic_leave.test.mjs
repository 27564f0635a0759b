// @world central+device
// qti_pci_mic_leave.test.mjs - the microphone the take page holds for a recording PCI is
// released as soon as the candidate leaves the item, even when the page's audio context
// processes no sound (a browser that keeps it suspended: a PCI that starts recording with no
// gesture, after a reload). Before, only the next sound or the next message from a frame
// closed it: leaving for an item without a PCI left the microphone on. The package is the
// recording PCI of tests/browser/fixtures/pci_audio (Q01) followed by an ordinary choice (Q02,
// tests/browser/fixtures/pci_loop/items/capital.xml), put together here.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { check, finish, launch, outpost, src, world } from './lib.mjs';

const dev = world.device.url;
const C = world.central.dir;
const D = world.device.dir;
const work = fs.mkdtempSync(path.join(world.work || '/tmp', 'pci-mic-leave-'));
const pkg = path.join(work, 'pkg');
fs.cpSync(path.join(src, 'tests/browser/fixtures/pci_audio'), pkg, { recursive: true });
fs.rmSync(path.join(pkg, 'items/probe.xml'));
fs.rmSync(path.join(pkg, 'items/micProbe'), { recursive: true });
fs.copyFileSync(path.join(src, 'tests/browser/fixtures/pci_loop/items/capital.xml'), path.join(pkg, 'items/capital.xml'));
const fix = (f, from, to) => fs.writeFileSync(path.join(pkg, f), fs.readFileSync(path.join(pkg, f), 'utf8').split(from).join(to));
fix('test.xml', 'items/probe.xml', 'items/capital.xml');
fix('test.xml', 'title="Speaking"', 'title="Speaking leave"');
fix('imsmanifest.xml', '<file href="items/probe.xml"/>\n      <file href="items/micProbe/probe.js"/>', '<file href="items/capital.xml"/>');
fix('imsmanifest.xml', 'href="items/probe.xml"', 'href="items/capital.xml"');
const zip = path.join(work, 'pci_mic_leave.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, pkg]);
const imp = outpost(['--data', C, 'import-qti', '-f', zip, '--label', 'Speaking leave']);
check('the package (a recording PCI, then a choice) imports', imp.status === 0, imp.stderr);
const el = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'Speaking leave', '--test-takers', 'ta1', '--proctored', 'no']);
check('ta1 is eligible', el.status === 0, el.stderr);

const fakeMic = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const { browser, context, page: p } = await launch(undefined, [/^401 .*\/api\/v1\/session$/], fakeMic);
// the take page (not the frame): every microphone it opens is noted, and its audio contexts
// stay suspended, as a browser keeps one made with no user gesture
await context.addInitScript(() => {
  if (window.top !== window) return;
  window.outpostMics = [];
  const gum = navigator.mediaDevices && navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  if (gum) navigator.mediaDevices.getUserMedia = (c) => gum(c).then((s) => { window.outpostMics.push(s); return s; });
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(o) { super(o); this.suspend(); }
    resume() { return Promise.resolve(); }
  };
});
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
const waitProgress = (page, text) => page.waitForFunction((t) => document.getElementById('item-progress').textContent.includes(t), text, { timeout: 15000 });
const live = () => p.evaluate(() => window.outpostMics.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length);

try {
  const mgr = await context.browser().newContext().then((c) => c.newPage());
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', D, 'sync']);
  check('the device syncs the delivery', s.status === 0, s.stderr);

  check('ta1 logs in', await login(p, 'ta1', /\/take\.html$/));
  await p.click('button >> text="Start Speaking leave"');
  await waitProgress(p, '1 of 2');
  const f1 = p.frameLocator('iframe.qti-pci-frame').first();
  await f1.getByRole('button', { name: 'Record' }).click({ timeout: 15000 });
  await p.waitForFunction(() => (document.querySelector('.qti-pci-mic') || {}).textContent === 'The microphone is on: this question is recording.', null, { timeout: 15000 }).catch(() => {});
  check('Q01: Record: the page holds the microphone', (await live()) > 0, await live());

  // leaving while it records, for an item with no PCI (no frame's message comes)
  await p.click('#next');
  await waitProgress(p, '2 of 2');
  await p.waitForFunction(() => window.outpostMics.flatMap((s) => s.getTracks()).every((t) => t.readyState !== 'live'), null, { timeout: 5000 }).catch(() => {});
  check('Q02: the microphone is released within seconds of leaving Q01 (no track live)', (await live()) === 0, await live());
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
await finish(browser);
