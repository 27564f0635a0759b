// @world central+device
// qti_pci_audio.test.mjs - an audio recording PCI on the device's take page, against the real
// servers of tests/browser/run.sh, with chromium's fake microphone (a beep) and its
// permission prompt answered yes. The fixture package tests/browser/fixtures/pci_audio (Q01
// a recording PCI in the shape of TAO's audioRecordingInteraction exports, bound to a file
// response; Q02 an ordinary PCI that asks for the microphone and the camera) is imported on
// central, made available to ta1 and ta2, synced to the device and taken:
//   - ta1, with the KEYBOARD only: Tab into the frame, Enter on Record (the page says outside
//     the frame that the microphone is on), Enter on Stop (the microphone goes off), Enter on
//     Play (the recording plays back in the frame);
//   - the frame of the recording PCI is sandboxed like any PCI's (no allow-same-origin, no
//     allow attribute, its Permissions-Policy denies the microphone and the camera): the page
//     holds the microphone and hands the frame its sound;
//   - Q02, an ordinary PCI: the microphone and the camera, asked every way, are refused;
//   - coming back to Q01 the PCI has its recording again; the test finishes, the device's
//     database holds the recording sealed only; central decrypts the result (decrypt-results)
//     and holds the recording: audio/webm, its size and bytes those the page sent; SCORE 1;
//     the CSV and QTI XML exports and the backoffice's download give it like an upload's file;
//   - ta2 opens the device over plain http on a LAN name (not a secure context: no
//     microphone is possible): the page says so at once, and the PCI's try gets the reason;
//   - axe-core finds no serious or critical violation on the page and inside the frames.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { axe, backofficeLogin, check, finish, launch, outpost, shot, sqlite, src, tabTo, visible, world } from './lib.mjs';

const axePath = createRequire(path.join(src, 'package.json')).resolve('axe-core/axe.min.js');
const dev = world.device.url;
const C = world.central.dir;
const D = world.device.dir;
const work = fs.mkdtempSync(path.join(world.work || '/tmp', 'pci-audio-'));

const zip = path.join(work, 'pci_audio.zip');
execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), zip, path.join(src, 'tests/browser/fixtures/pci_audio')]);
const imp = outpost(['--data', C, 'import-qti', '-f', zip, '--label', 'Speaking']);
check('the package of a recording PCI (a customInteraction bound to a file response) imports', imp.status === 0, imp.stderr);
const el = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'Speaking', '--test-takers', 'ta1,ta2', '--proctored', 'no']);
check('ta1 and ta2 are eligible', el.status === 0, el.stderr);

const fakeMic = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const { browser, context, page: p, problems } = await launch(undefined, [/^401 .*\/api\/v1\/session$/], fakeMic);
async function login(page, who, landing, base = dev) {
  await page.goto(`${base}/`);
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
async function axeAll(page, name) {
  const frames = page.frames().filter((f) => f !== page.mainFrame() && /\/pci\//.test(f.url()));
  for (const f of frames) await f.evaluate(fs.readFileSync(axePath, 'utf8'));
  const v = await axe(page, name);
  check(`${name}: axe-core, the page: no serious or critical violation`, v.length === 0, v);
  for (const [i, f] of frames.entries()) {
    const fv = await axe(f, `${name}-frame${i + 1}`);
    check(`${name}: axe-core, inside the PCI's frame: no serious or critical violation`, fv.length === 0, fv);
  }
}
const waitProgress = (page, text) => page.waitForFunction((t) => document.getElementById('item-progress').textContent.includes(t), text, { timeout: 15000 });
const frameStatus = (f) => f.locator('.status').textContent();
const micStatus = () => p.locator('.qti-pci-mic').textContent();

try {
  const mgr = await context.browser().newContext().then((c) => c.newPage());
  check("the sync manager's first login enrols the device", await login(mgr, 'sm-a', /\/sync\.html$/));
  const s = outpost(['--data', D, 'sync']);
  check('the device syncs the delivery', s.status === 0, s.stderr);

  // ======================================================== ta1 records, keyboard only ==
  check('ta1 logs in', await login(p, 'ta1', /\/take\.html$/));
  await visible(p, 'button >> text="Start Speaking"');
  await tabTo(p, { text: 'Start Speaking' });
  await p.keyboard.press('Enter');
  await waitProgress(p, '1 of 2');
  const f1 = p.frameLocator('iframe.qti-pci-frame').first();
  await f1.getByRole('button', { name: 'Record' }).waitFor({ timeout: 15000 });
  const attrs = await p.evaluate(() => {
    const f = document.querySelector('iframe.qti-pci-frame');
    return { sandbox: f.getAttribute('sandbox'), allow: f.getAttribute('allow'), src: f.getAttribute('src') };
  });
  check('Q01: the recording PCI runs in <iframe sandbox="allow-scripts">, no allow attribute',
    attrs.sandbox === 'allow-scripts' && attrs.allow === null, attrs);
  const hdr = await p.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { csp: r.headers.get('content-security-policy'), pp: r.headers.get('permissions-policy') };
  }, attrs.src);
  check("Q01: the recording frame's own document has no network and no device (microphone=(), camera=())",
    /connect-src 'none'/.test(hdr.csp) && /sandbox allow-scripts$/.test(hdr.csp) && /microphone=\(\)/.test(hdr.pp) && /camera=\(\)/.test(hdr.pp), hdr);
  check('Q01: the page says no recording is given yet', (await p.locator('.qti-upload-status').textContent()) === 'No recording yet.');

  await p.locator('body').focus();
  await tabTo(p, 'iframe.qti-pci-frame');
  for (let i = 0; i < 6 && !(await f1.locator('button:focus').count()); i++) await p.keyboard.press('Tab');
  check('Q01: Tab moves the focus into the PCI, onto Record', (await f1.locator('button:focus').textContent()) === 'Record');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => (document.querySelector('.qti-pci-mic') || {}).textContent === 'The microphone is on: this question is recording.', null, { timeout: 15000 }).catch(() => {});
  check('Q01: Enter on Record: the page says, outside the frame, that the microphone is on', (await micStatus()) === 'The microphone is on: this question is recording.', await micStatus());
  await f1.locator('.status', { hasText: 'Recording... 2 s' }).waitFor({ timeout: 15000 }).catch(() => {});
  check('Q01: the PCI records (its own status counts the seconds)', /^Recording\.\.\. [2-9] s$/.test(await frameStatus(f1)), await frameStatus(f1));
  await shot(p, 'Q01-recording');
  check('Q01: the focus is on Stop', (await f1.locator('button:focus').textContent()) === 'Stop');
  await p.keyboard.press('Enter');
  await f1.locator('.status', { hasText: 'Recorded' }).waitFor({ timeout: 15000 }).catch(() => {});
  check('Q01: Enter on Stop: the PCI has its recording, one of two used', /^Recorded \d+ s\. 1 of 2 recordings left\.$/.test(await frameStatus(f1)), await frameStatus(f1));
  await p.waitForFunction(() => (document.querySelector('.qti-pci-mic') || {}).textContent === '', null, { timeout: 5000 }).catch(() => {});
  check('Q01: the microphone goes off when the PCI stops its tracks', (await micStatus()) === '', await micStatus());
  check('Q01: the focus is on Play', (await f1.locator('button:focus').textContent()) === 'Play');
  await p.keyboard.press('Enter');
  await f1.locator('.status', { hasText: /Play(ing|ed) your recording/ }).waitFor({ timeout: 15000 }).catch(() => {});
  check('Q01: Enter on Play plays the recording back in the frame', /^Play(ing|ed) your recording\.$/.test(await frameStatus(f1)), await frameStatus(f1));
  // the frame reports the PCI's answer (the recording) by message, at a gesture or every half
  // second: the page says so once it has it
  await p.waitForFunction(() => /is sent when you leave/.test(document.querySelector('.qti-upload-status').textContent), null, { timeout: 15000 }).catch(() => {});
  const given = await p.locator('.qti-upload-status').textContent();
  check('Q01: the page says the recording is sent when the candidate goes on', /^Your recording audioRecording_\d+\.webm \(\d+ (KB|bytes)\) is sent when you leave this question\.$/.test(given), given);
  await axeAll(p, 'Q01');
  await shot(p, 'Q01-recorded');
  await tabTo(p, '#next');
  await p.keyboard.press('Enter');
  await waitProgress(p, '2 of 2');
  const r1 = sent.Q01 && sent.Q01.RESPONSE;
  const file1 = r1 && r1.base && r1.base.file;
  const bytes = Buffer.from((file1 && file1.data) || '', 'base64');
  check('Q01: the page sent the recording in the JSON binding: {"base": {"file": {data, mime, name}}}, WebM',
    file1 && /^audio\/webm/.test(file1.mime) && /^audioRecording_\d+\.webm$/.test(file1.name) && bytes.length > 1000 &&
    bytes.subarray(0, 4).toString('hex') === '1a45dfa3', file1 && { mime: file1.mime, name: file1.name, size: bytes.length });

  // ============================================= Q02: an ordinary PCI gets no device ==
  const f2 = p.frameLocator('iframe.qti-pci-frame').first();
  await f2.locator('.probe', { hasText: 'done' }).waitFor({ timeout: 15000 }).catch(() => {});
  const probe = (await f2.locator('.probe').textContent()).replace(/^Checked: /, '');
  const words = Object.fromEntries(probe.split(' ').filter((w) => w.includes(':')).map((w) => w.split(':')));
  for (const k of ['microphone', 'camera', 'microphone-native', 'camera-native', 'microphone-legacy'])
    check(`Q02: an ordinary PCI's try "${k}" is refused (even with the permission prompt answering yes)`, words[k] === 'blocked', probe);
  check('Q02: the page never turned the microphone on for it', (await p.locator('.qti-pci-mic').count()) === 0);
  await axeAll(p, 'Q02');

  // ================================== back to Q01: the PCI has its recording, finished ==
  await tabTo(p, '#prev');
  await p.keyboard.press('Enter');
  await waitProgress(p, '1 of 2');
  const f1b = p.frameLocator('iframe.qti-pci-frame').first();
  await f1b.locator('.status', { hasText: 'You have a recording.' }).waitFor({ timeout: 15000 }).catch(() => {});
  check('Q01 again: the PCI is given its recording back (boundTo) while the page is open', (await frameStatus(f1b)) === 'You have a recording.', await frameStatus(f1b));
  check('Q01 again: one recording left (its state)', await f1b.getByRole('button', { name: 'Record' }).isEnabled());
  // a reload: the device keeps the recording (sealed: it cannot give it back to the PCI)
  await p.reload();
  await waitProgress(p, '1 of 2');
  const f1c = p.frameLocator('iframe.qti-pci-frame').first();
  await f1c.locator('.status', { hasText: 'No recording yet.' }).waitFor({ timeout: 15000 }).catch(() => {});
  await p.waitForTimeout(1200); // the PCI's empty answer has come and gone
  const keptSay = await p.locator('.qti-upload-status').textContent();
  check('after a reload the page says the recording is kept, though the PCI starts empty',
    new RegExp(`^Your recording ${file1.name.replace('.', '\\.')} \\(\\d+ (KB|bytes)\\) is kept\\. Recording again replaces it\\.$`).test(keptSay), keptSay);
  await tabTo(p, '#finish');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#confirm[open]');
  await p.keyboard.press('Enter');
  check('ta1 finishes', await visible(p, '#done-title >> text=Test finished', 15000));
  const rows = sqlite(D, "SELECT coalesce(session, '') FROM executions") + sqlite(D, 'SELECT hex(envelope) FROM result_outbox');
  check("the device's database never holds the recording in clear", file1 && !rows.includes(file1.data.slice(0, 200)) && !rows.includes(bytes.subarray(0, 64).toString('hex').toUpperCase()));
  check("the execution's session holds the recording sealed", sqlite(D, "SELECT count(*) FROM executions WHERE session LIKE '%\"sealed\"%'") === '1');

  // =========================================================== the result on central ==
  await mgr.goto(`${dev}/sync.html`);
  await mgr.waitForSelector('#start:not([disabled])', { timeout: 15000 }).catch(() => {});
  await mgr.click('#start');
  await mgr.waitForFunction(() => document.querySelectorAll('#history-rows tr').length >= 2 && !document.getElementById('start').disabled, null, { timeout: 60000 }).catch(() => {});
  check('the sync brings the result to central', await visible(mgr, '#sync-state >> text=Synchronisation finished successfully.', 1000));
  const dec = outpost(['--data', C, 'decrypt-results', '--all']);
  check('central decrypts the results (decrypt-results)', dec.status === 0, dec.stdout + dec.stderr);
  const rid = sqlite(C, "SELECT r.id FROM results r JOIN deliveries d ON d.id = r.delivery_id WHERE d.label = 'Speaking'");
  const shown = outpost(['--data', C, 'results', 'show', rid]);
  let res = null;
  try { res = JSON.parse(shown.stdout); } catch (e) { check('results show prints JSON', false, shown.stdout + shown.stderr); }
  const items = (res && res.outcome && res.outcome.items) || {};
  const kept = items.Q01 && items.Q01.responses && items.Q01.responses.RESPONSE;
  const keptBytes = Buffer.from((kept && kept.data) || '', 'base64');
  check('central holds the recording: audio/webm, its size, byte for byte what the page sent',
    kept && kept.type === 'audio/webm' && kept.size === bytes.length && keptBytes.equals(bytes) && kept.name === file1.name && !kept.sealed,
    kept && { type: kept.type, size: kept.size, name: kept.name, sent: bytes.length });
  fs.mkdirSync(process.env.OUTPOST_ARTIFACTS || work, { recursive: true });
  fs.writeFileSync(path.join(process.env.OUTPOST_ARTIFACTS || work, 'qti_pci_audio-recording.webm'), keptBytes);
  const score = items.Q01 && items.Q01.outcomes && items.Q01.outcomes.SCORE;
  check('Q01 scores 1 on central (a recording was given)', score === 1, score);
  // the exports show it like an upload's file
  const csv = outpost(['--data', C, 'results', 'export', '--delivery', 'Speaking', '--format', 'csv']);
  const sha = kept && kept.sha256;
  check("the CSV export names the recording in its column Q01.RESPONSE (name, type, size, SHA-256)",
    csv.status === 0 && csv.stdout.split('\r\n')[0].split(',').includes('Q01.RESPONSE') &&
    csv.stdout.includes(`${file1.name} (audio/webm, ${bytes.length} bytes, sha256 ${sha})`), csv.stdout.slice(0, 600) + csv.stderr);
  const xml = outpost(['--data', C, 'results', 'export', '--result', rid]);
  check('the QTI result XML gives the recording as a file value, in base64',
    xml.status === 0 && /cardinality="single" baseType="file"/.test(xml.stdout) && xml.stdout.includes(kept.data.slice(0, 200)), xml.stderr || xml.stdout.slice(0, 300));
  // the backoffice offers it to download, as an upload's file
  const admin = await context.browser().newContext({ acceptDownloads: true }).then((c) => c.newPage());
  check('the super-user logs in to the backoffice', await backofficeLogin(admin, 'admin', 'admin-password'));
  const did = sqlite(C, "SELECT id FROM deliveries WHERE label = 'Speaking'");
  await admin.goto(`${world.central.url}/admin/results.html?delivery=${did}`);
  await admin.waitForSelector(`#rows tr[data-id="${rid}"] button`, { timeout: 15000 }).catch(() => {});
  await admin.click(`#rows tr[data-id="${rid}"] button`);
  await admin.waitForSelector('#detail:not([hidden]) a.result-file', { timeout: 10000 }).catch(() => {});
  const links = await admin.$$eval('#item-rows a.result-file', (l) => l.map((a) => a.textContent));
  check("the backoffice's result offers the recording to download (name, type, size)",
    links.length === 1 && links[0] === `Download ${file1.name} (audio/webm, ${bytes.length} bytes)`, links);
  const [download] = await Promise.all([admin.waitForEvent('download', { timeout: 10000 }), admin.click('#item-rows a.result-file')]);
  check('the download is the recording, byte for byte, under its name',
    fs.readFileSync(await download.path()).equals(bytes) && download.suggestedFilename() === file1.name, download.suggestedFilename());
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
// the probe's tries of the browser's own getUserMedia are reported by the browser as
// violations of the frame's Permissions-Policy: expected
const unexpected = problems.filter((m) => !/^Permissions policy violation: (microphone|camera) is not allowed in this document\.$/.test(m));
check('no script error or failed request (ta1)', unexpected.length === 0, unexpected);
await browser.close();

// ========================== ta2 over plain http on a LAN name: no microphone possible ==
// chromium resolves device.lan to the device's loopback address: the page is the device's,
// but its origin (http://device.lan:PORT) is not a secure context, as a LAN address over
// plain http is not.
const port = new URL(dev).port;
const lan = `http://device.lan:${port}`;
const b2 = await launch(undefined, [], [...fakeMic, '--host-resolver-rules=MAP device.lan 127.0.0.1']);
try {
  const q = b2.page;
  check('ta2 logs in over http://device.lan (not a secure context)', await login(q, 'ta2', /\/take\.html$/, lan));
  check('the page is not a secure context', !(await q.evaluate(() => window.isSecureContext)));
  await visible(q, 'button >> text="Start Speaking"');
  await q.click('button >> text="Start Speaking"');
  await waitProgress(q, '1 of 2');
  const f = q.frameLocator('iframe.qti-pci-frame').first();
  await f.getByRole('button', { name: 'Record' }).waitFor({ timeout: 15000 });
  const alert = await q.locator('.qti-pci-error[role=alert]').textContent();
  check('the page says at once why no recording can be made, and what to do', !(await q.locator('.qti-pci-error').isHidden()) &&
    /^Recording is not possible on this device: its pages are not served over a secure connection/.test(alert), alert);
  await f.getByRole('button', { name: 'Record' }).click();
  await f.locator('.status', { hasText: 'cannot be used' }).waitFor({ timeout: 10000 }).catch(() => {});
  const st = await frameStatus(f);
  check("the PCI's own try gets the reason (not a silent failure)", /^The microphone cannot be used: Recording is not possible on this device/.test(st), st);
  await axeAll(q, 'lan');
  await shot(q, 'lan-no-microphone');
} catch (e) {
  check('the LAN flow ran to the end', false, e.stack || String(e));
}
await finish(b2.browser);
