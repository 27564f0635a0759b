// @world central+device
// bo_results.test.mjs - the backoffice's results tab (web/admin/results.html; docs/api.md
// "Results") in a world of a real central and a real device (tests/browser/run.sh): the
// device is enrolled by its sync manager and seals three results as a device does
// (tests/tools/envelope_tool), one of them with an audit log altered after the fact; central
// receives them. The super-user opens the tab, decrypts the pending results with the button,
// reads the table (test taker, center, device, state, score, outcomes), the distribution drawn
// as SVG, opens a result with the keyboard (answers, outcomes, audit log verified) and the
// tampered one (shown BROKEN at its entry), exports CSV (formulas neutralised, the same
// scores) and QTI XML (a ZIP); the administrator of A North sees only A North's results and no
// decrypt button. axe-core on every state.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { axe, backofficeLogin, build, check, finish, launch, outpost, shot, sqlite, tabTo, world } from './lib.mjs';

const url = world.central.url;
const C = world.central.dir, D = world.device.dir;

let r = outpost(['--data', D, 'enrol', '--login', 'sm-a', '--password-stdin'], 'pw-sm-a\n');
check('the sync manager enrols the device', r.status === 0, r.stderr);
r = outpost(['--data', C, 'users', 'add', '--login', 'tca', '--role', 'test-center-admin'], 'pw-tca\n');
check('an administrator of A North is added', r.status === 0, r.stderr);
r = outpost(['--data', C, 'testcenters', 'assign', 'A North', '--admin', 'tca']);
check('and given A North', r.status === 0, r.stderr);

const q1 = (sql) => sqlite(C, sql);
const maths = q1("SELECT id FROM deliveries WHERE label = 'Maths'");
const north = q1("SELECT id FROM test_centers WHERE label = 'A North'");
const south = q1("SELECT id FROM test_centers WHERE label = 'A South'");
const user = (login) => q1(`SELECT id FROM users WHERE login = '${login}'`);

// The device's audit log of an execution, hash-chained as src/store/executions.c writes it.
function auditChain(execution, taker, actions) {
  let prev = '0'.repeat(64);
  return actions.map(([action, from, to, detail], i) => {
    const e = { seq: i + 1, at: 1800000000 + 60 * i, actor_id: taker, actor_role: 'test-taker', action, from, to, detail };
    const field = (n, v) => `${n}=${Buffer.byteLength(String(v))}:${v}\n`;
    const text = 'outpost execution audit v1\n' + field('execution', execution) + field('seq', e.seq) +
      field('at', e.at) + field('actor', e.actor_id) + field('role', e.actor_role) + field('action', action) +
      field('from', from) + field('to', to) + field('detail', JSON.stringify(detail));
    e.prev_hash = prev;
    e.hash = crypto.createHash('sha256').update(prev + text).digest('hex');
    prev = e.hash;
    return e;
  });
}

const work = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'bo-results-'));
const envelopes = path.join(work, 'in.bin');
function seal(login, center, score, note, tamper) {
  const execution = crypto.randomUUID();
  const audit = auditChain(execution, user(login), [['start', '', 'active', {}], ['finish', 'active', 'finished', {}]]);
  if (tamper) audit[0].at += 3600; // changed after the device wrote it
  const doc = {
    format: 'outpost result v1',
    execution: { id: execution, delivery_id: maths, center_id: center, state: 'finished' },
    session: null,
    outcome: {
      format: 1, test: 'outpost-demo', route: ['capital'],
      outcomes: { SCORE_TOTAL: score, SCORE_TOTAL_MAX: 7, NOTE: note },
      items: { capital: { identifier: 'capital', responses: { RESPONSE: 'paris' }, outcomes: { SCORE: 1 } } },
    },
    audit,
  };
  const file = path.join(work, `${login}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  return execFileSync(path.join(build, 'envelope_tool'),
    ['seal', D, C, envelopes, file, 'finished', '', maths, user(login)],
    { encoding: 'utf8', env: { ...process.env, OUTPOST_TOOL_NO_SCOPE: '1', OUTPOST_TOOL_EXECUTION_ID: execution } }).trim();
}
const idAda = seal('ta1', north, 6, '=HYPERLINK("http://x")', false);
const idTampered = seal('ta2', north, 3, 'fine', true);
const idSouth = seal('ta4', south, 5, 'south', false);
r = outpost(['--data', C, 'results', 'import', '-f', envelopes]);
check('central receives the three results', r.status === 0 && r.stdout.includes('3 stored'), r.stdout + r.stderr);

const { browser, page } = await launch({ width: 1400, height: 1000 }, [/^401 .*\/api\/v1\/session$/]);

const rowsOf = (p) => p.$$eval('#rows tr', (trs) => trs.map((tr) => ({
  id: tr.dataset.id, cells: [...tr.children].map((c) => c.textContent.trim()),
})));

await backofficeLogin(page, 'admin', 'admin-password');
await page.goto(`${url}/admin/results.html?delivery=${maths}`);
await page.waitForSelector('#rows tr', { timeout: 15000 }).catch(() => {});
let rows = await rowsOf(page);
check('the tab lists the three results', rows.length === 3 && [idAda, idTampered, idSouth].every((id) => rows.some((x) => x.id === id)), rows);
check('not decrypted yet', rows.every((x) => x.cells[6] === 'Not decrypted yet'), rows);
let v = await axe(page, 'results-pending');
check('axe: no serious or critical violation (pending)', v.length === 0, v);

await tabTo(page, '#decrypt');
await page.keyboard.press('Enter');
await page.waitForFunction(() => /3 decrypted/.test(document.getElementById('done').textContent), null, { timeout: 20000 }).catch(() => {});
check('"Decrypt pending results" decrypts them', (await page.textContent('#done')).includes('3 decrypted'), await page.textContent('#done'));
await page.waitForSelector('#dist:not([hidden]) svg rect.bar', { timeout: 10000 }).catch(() => {});
rows = await rowsOf(page);
const ada = rows.find((x) => x.id === idAda) || { cells: [] };
check('a row shows test taker, center, device', ada.cells[0].includes('ta1') && ada.cells[1] === 'A North' && ada.cells[2] !== '', ada.cells);
check('finished, decrypted, its score and outcomes', ada.cells[5] === 'Finished' && ada.cells[6] === 'Decrypted' &&
  ada.cells[7] === '6 of 7' && ada.cells[8].includes('SCORE_TOTAL = 6'), ada.cells);
const bars = await page.$$eval('#dist svg rect.bar', (rs) => rs.map((x) => Number(x.dataset.count)));
check('the distribution is drawn as SVG bars, one result each', bars.length === 10 && bars.reduce((a, b) => a + b, 0) === 3, bars);
check('the chart has a text alternative', /3 scored results, from 3 to 6/.test(await page.textContent('#dist-summary')));
v = await axe(page, 'results-decrypted');
check('axe: no serious or critical violation (decrypted, chart)', v.length === 0, v);
await shot(page, 'results');

// a result opened with the keyboard
await tabTo(page, `#rows tr[data-id="${idAda}"] button`);
await page.keyboard.press('Enter');
await page.waitForSelector('#detail:not([hidden])', { timeout: 10000 }).catch(() => {});
check('the result opens and takes the focus', await page.evaluate(() => document.activeElement.id === 'detail'));
check('its answers and scores', (await page.textContent('#item-rows')).includes('RESPONSE = paris'));
check('its audit log is verified', (await page.textContent('#audit-verdict')).startsWith('Verified'), await page.textContent('#audit-verdict'));
check('with its entries', (await page.$$('#audit-rows tr')).length === 2);
v = await axe(page, 'result-verified');
check('axe: no serious or critical violation (a result)', v.length === 0, v);

await page.click(`#rows tr[data-id="${idTampered}"] button`);
await page.waitForFunction(() => /BROKEN/.test(document.getElementById('audit-verdict').textContent), null, { timeout: 10000 }).catch(() => {});
const verdict = await page.textContent('#audit-verdict');
check('an altered audit log is shown broken, at its entry', /BROKEN.*entry 1.*altered/.test(verdict), verdict);
v = await axe(page, 'result-broken');
check('axe: no serious or critical violation (a broken log)', v.length === 0, v);
await shot(page, 'result-broken');

// a result held for review (its eligibility withdrawn after the test): rejected with a reason
// (sqlite3 waits for the server's writes: .timeout; the opened result is read anew)
execFileSync('sqlite3', ['-cmd', '.timeout 10000', path.join(C, 'outpost.db'),
  `UPDATE results SET review = 'quarantined', review_reason = 'eligibility withdrawn' WHERE id = '${idSouth}'`]);
await page.click(`#rows tr[data-id="${idSouth}"] button`);
const held = await page.waitForSelector('#review:not([hidden])', { timeout: 10000 }).then(() => true, () => false);
check('a result held for review offers accept and reject', held);
v = await axe(page, 'result-held');
check('axe: no serious or critical violation (held for review)', v.length === 0, v);
await page.fill('#reason', 'taken in the wrong centre');
await tabTo(page, '#reject');
await page.keyboard.press('Enter');
await page.waitForFunction(() => /rejected/.test(document.getElementById('done').textContent), null, { timeout: 10000 }).catch(() => {});
check('rejecting it says so', (await page.textContent('#done')).includes('rejected'), await page.textContent('#done'));
check('central recorded the decision and the reason',
  sqlite(C, `SELECT review || '|' || review_reason FROM results WHERE id = '${idSouth}'`) === 'rejected|taken in the wrong centre');
check('the review buttons are gone', await page.isHidden('#review'));

// the exports, as the links give them
const csvHref = await page.getAttribute('#export-csv', 'href');
const csv = await page.evaluate(async (h) => (await fetch(h)).text(), csvHref);
check('Export CSV gives the results with a header', csv.startsWith('result_id,execution_id,test_taker_login'), csv.slice(0, 200));
check('a formula is neutralised', csv.includes('"\'=HYPERLINK(""http://x"")"'), csv);
const adaLine = csv.split('\r\n').find((l) => l.startsWith(idAda)) || '';
check('with the score of the tab', adaLine.includes(',6,7,'), adaLine);
const xmlHref = await page.getAttribute('#export-xml', 'href');
const zip = await page.evaluate(async (h) => {
  const res = await fetch(h);
  const b = new Uint8Array(await res.arrayBuffer());
  return { type: res.headers.get('content-type'), cd: res.headers.get('content-disposition'), magic: String.fromCharCode(b[0], b[1]) };
}, xmlHref);
check('Export QTI XML gives a ZIP to save', zip.type === 'application/zip' && zip.magic === 'PK' && /attachment; filename="Maths\.zip"/.test(zip.cd), zip);

// an administrator of A North: only A North's results, no decrypt
const admin = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await backofficeLogin(admin, 'tca', 'pw-tca');
await admin.goto(`${url}/admin/results.html?delivery=${maths}`);
await admin.waitForSelector('#rows tr', { timeout: 15000 }).catch(() => {});
const theirs = await rowsOf(admin);
check('the administrator sees only the results of A North', theirs.length === 2 && !theirs.some((x) => x.id === idSouth), theirs);
check('and no decrypt button', await admin.isHidden('#decrypt'));
const other = await admin.evaluate(async (id) => (await fetch(`/api/v1/admin/results/${id}`)).status, idSouth);
check('another center\'s result is 404 to them', other === 404, other);
v = await axe(admin, 'results-admin');
check('axe: no serious or critical violation (administrator)', v.length === 0, v);

fs.rmSync(work, { recursive: true, force: true });
await finish(browser);
