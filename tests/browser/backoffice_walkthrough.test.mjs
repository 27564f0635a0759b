// @world central+device
// backoffice_walkthrough.test.mjs - issue 13's "Done when", walked in the real pages of a real
// central and a real device (tests/browser/run.sh): the super-user, mostly with the keyboard,
//
//  1. logs in to the backoffice and imports users from CSV files on the users page: test
//     takers, a proctor, a sync manager of a new organisation (WALK-ORG); a second test-taker
//     file with one bad row imports nothing and the page lists that row;
//  2. creates the test center "Walk Centre" with the organisation id WALK-ORG and assigns the
//     proctor to it;
//  3. uploads a real TAO package (../shared/samples/qti/tao/outcomeProcessing/SumScore.zip,
//     OUTPOST_SAMPLES: a linear test of three items with a TOTAL_SCORE); when the samples
//     folder is absent the test says so and uploads the project's demo package instead
//     (scripts/make-demo-package.sh), so that the rest still runs;
//  4. makes the imported test takers eligible for it at Walk Centre, not proctored;
//  5. on the device: the imported sync manager's first login enrols it into WALK-ORG and the big
//     button syncs it; an imported test taker logs in, takes the test with the keyboard and
//     finishes it; the sync manager syncs again and the result goes to central;
//  6. back in the backoffice: the device with its organisation and sync manager on the devices
//     page, its two syncs in the sync history (the report of the last one: one result sent);
//     the results tab: "Decrypt pending results", the result's row (test taker, center,
//     device, finished, score), the result opened (answers, outcomes, audit log verified);
//     Export CSV and Export QTI XML downloaded as a person would, holding the tab's figures
//     (and the XML valid against IMS's schema when xmllint is there);
//  7. axe-core on every page and state visited: no serious or critical violation.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { axe, check, deviceLogin, finish, launch, loginReady, newPage, outpost, shot, sqlite, src, syncByButton, tabTo, visible, world } from './lib.mjs';

const bo = world.central.url;
const dev = world.device.url;
const C = world.central.dir;
const started = Date.now();
const stamp = (what) => console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
const work = fs.mkdtempSync(path.join(world.work, 'walk-'));

// ---- the package: a real TAO one, or the project's demo package without the samples ----
const samples = path.join(process.env.OUTPOST_SAMPLES || path.join(src, '../shared/samples'), 'qti/tao');
const taoZip = path.join(samples, 'outcomeProcessing/SumScore.zip');
let pkg, label, answers;
if (fs.existsSync(taoZip)) {
  pkg = taoZip;
  label = 'Walk SumScore';
  // Q01 and Q02 right, Q03 wrong: TOTAL_SCORE 2
  answers = { radio: ['rhinoceros', 'zebra', 'jaguar'] };
} else {
  console.log(`SKIP (part): the TAO samples folder ${samples} is absent: step 3 uploads the project's demo package ` +
    '(scripts/make-demo-package.sh demo/qti-test) instead of a TAO package');
  pkg = path.join(work, 'demo.zip');
  execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), pkg]);
  label = 'Walk demo';
  answers = { radio: ['paris'], checkbox: ['n2', 'n3', 'n7'], text: 'Mars', textarea: 'A walk through the backoffice.' };
}

const allow = [/^401 .*\/api\/v1\/session$/];
const { browser, page, problems } = await launch({ width: 1400, height: 1000 }, allow);
const allProblems = [problems];

async function axeClean(p, name) {
  const v = await axe(p, name);
  check(`axe: no serious or critical violation (${name})`, v.length === 0, v);
}
// Waits for the page's "done" line (role=status) to say `re`; its text.
async function done(p, re, ms = 15000) {
  await p.waitForFunction((s) => {
    const d = document.getElementById('done');
    return d && !d.hidden && new RegExp(s).test(d.textContent);
  }, re.source, { timeout: ms }).catch(() => {});
  return p.textContent('#done');
}
// Goes to a backoffice page by its link in the navigation, with the keyboard.
async function navTo(p, name, file) {
  await tabTo(p, `#bo-nav a[href="/admin/${file}"]`);
  await p.keyboard.press('Enter');
  await p.waitForURL(new RegExp(`/admin/${file.replace('.', '\\.')}`), { timeout: 15000 }).catch(() => {});
  return check(`the navigation leads to the ${name} page`, p.url().includes(`/admin/${file}`), p.url());
}
// A CSV of RFC 4180 as rows of cells.
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += ch;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

try {
  // ============================================================ 1. log in, import users ==
  await page.goto(`${bo}/`);
  await loginReady(page);
  await axeClean(page, 'bo-login');
  await page.focus('#login');
  await page.keyboard.type(world.super_user ? world.super_user.login : 'admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(world.super_user ? world.super_user.password : 'admin-password');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/admin\/users\.html$/, { timeout: 30000 }).catch(() => {});
  check('the super-user logs in to the backoffice with the keyboard and lands on the users page', /\/admin\/users\.html$/.test(page.url()), page.url());
  await page.waitForSelector('#rows tr', { timeout: 15000 }).catch(() => {});
  await axeClean(page, 'users');

  // Imports FILE as ROLE through the page's import form; the report's text.
  async function importCsv(name, text, role, ok) {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    await page.setInputFiles('#import-file', file);
    await page.selectOption('#import-role', role);
    await tabTo(page, '#import-go');
    await page.keyboard.press('Enter');
    const sel = ok ? '#import-status[data-kind=ok]:not([hidden])' : '#import-status[data-kind=error]:not([hidden])';
    await page.waitForSelector(sel, { timeout: 60000 }).catch(() => {});
    return page.textContent('#import-status');
  }
  let report = await importCsv('takers.csv', 'Login,Password,Label,First Name,Last Name\n' +
    'wt1,pw-wt1,Walker One,Wanda,Walker\nwt2,pw-wt2,Walker Two,Will,Walker\nwt3,pw-wt3,Walker Three,Wes,Walker\n', 'test-taker', true);
  check('three test takers imported from CSV', /Imported: 3 new users/.test(report), report);
  report = await importCsv('proctor.csv', 'Login,Password,Label\nwp1,pw-wp1,Walk Proctor\n', 'proctor', true);
  check('a proctor imported from CSV', /Imported: 1 new user/.test(report), report);
  report = await importCsv('sync.csv', 'Login,Password,Label,organisation id\nwsm1,pw-wsm1,Walk Sync,WALK-ORG\n', 'sync-manager', true);
  check('a sync manager of WALK-ORG imported from CSV', /Imported: 1 new user/.test(report), report);
  check('central holds them with their roles',
    sqlite(C, "SELECT group_concat(login || ':' || role, ' ') FROM (SELECT login, role FROM users WHERE login LIKE 'w%' ORDER BY login)") ===
    'wp1:proctor wsm1:sync-manager wt1:test-taker wt2:test-taker wt3:test-taker',
    sqlite(C, "SELECT group_concat(login || ':' || role, ' ') FROM users WHERE login LIKE 'w%'"));
  await axeClean(page, 'users-imported');
  report = await importCsv('bad.csv', 'Login,Password,Label\nwt4,pw-wt4,Fine row\nwt5,,No password here\nwt6,pw-wt6,Fine too\n', 'test-taker', false);
  check('a CSV with a bad row: the page says nothing was imported', /Nothing was imported/.test(report), report);
  const refused = await page.$$eval('#import-problems tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  check('and shows the bad row, its line and what is wrong', refused.length === 1 && refused[0][0] === '3' && /password/i.test(refused[0][1]), refused);
  check('none of that file is on central', sqlite(C, "SELECT count(*) FROM users WHERE login IN ('wt4', 'wt5', 'wt6')") === '0');
  await axeClean(page, 'users-refused');
  await shot(page, 'users');
  stamp('users');

  // ============================================================ 2. a test center ==
  await navTo(page, 'test centers', 'centers.html');
  await page.waitForSelector('#centers tbody tr', { timeout: 15000 }).catch(() => {});
  await axeClean(page, 'centers');
  await tabTo(page, '#add-label');
  await page.keyboard.type('Walk Centre');
  await page.keyboard.press('Tab');
  await page.keyboard.type('WALK-ORG');
  await page.selectOption('#add-parent', '');
  await tabTo(page, '#add-form button[type=submit]');
  await page.keyboard.press('Enter');
  check('the center is added', /Walk Centre added/.test(await done(page, /Walk Centre added/)), await page.textContent('#done'));
  const crow = page.locator('#centers tbody tr', { hasText: 'Walk Centre' });
  await crow.waitFor({ timeout: 10000 }).catch(() => {});
  check('listed with its organisation id', (await crow.textContent()).includes('WALK-ORG'), await crow.textContent());
  await tabTo(page, 'button[aria-label="Staff of Walk Centre"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#staff[open]');
  await page.focus('#staff-login');
  await page.keyboard.type('wp1');
  await page.selectOption('#staff-duty', 'proctor');
  await tabTo(page, '#staff-add');
  await page.keyboard.press('Enter');
  check('the imported proctor is assigned', await visible(page, '#staff-list li:has-text("wp1")'));
  await axeClean(page, 'centers-staff');
  await page.keyboard.press('Escape');
  check('central holds the center with its organisation id and proctor',
    sqlite(C, "SELECT org_id FROM test_centers WHERE label = 'Walk Centre'") === 'WALK-ORG' &&
    outpost(['--data', C, 'testcenters', 'list', '--json']).stdout.includes('wp1'));
  await shot(page, 'centers');
  stamp('center');

  // ============================================================ 3. the package ==
  await navTo(page, 'deliveries', 'deliveries.html');
  await page.waitForSelector('#upload-form', { state: 'visible', timeout: 15000 }).catch(() => {});
  await axeClean(page, 'deliveries');
  await page.setInputFiles('#up-file', pkg);
  await page.focus('#up-label');
  await page.keyboard.type(label);
  await page.selectOption('#up-proctored', 'no');
  await tabTo(page, '#up-button');
  await page.keyboard.press('Enter');
  const imported = await done(page, /is imported/, 120000);
  check(`the package ${path.basename(pkg)} is uploaded and imported`, imported.includes(`${path.basename(pkg)} is imported: delivery ${label}`), imported);
  check('both bars reached their end', (await page.getAttribute('#up-bar', 'value')) === '100' && (await page.getAttribute('#imp-bar', 'value')) === '100');
  await page.waitForSelector(`#deliveries tbody tr:has-text("${label}")`, { timeout: 10000 }).catch(() => {});
  check('the delivery is listed, published', /Published/.test(await page.textContent(`#deliveries tbody tr:has-text("${label}")`).catch(() => '')));
  await axeClean(page, 'deliveries-imported');
  await shot(page, 'deliveries');
  const deliveryId = sqlite(C, `SELECT id FROM deliveries WHERE label = '${label}'`);
  stamp('package');

  // ============================================================ 4. an eligibility ==
  await navTo(page, 'eligibilities', 'eligibilities.html');
  await page.waitForSelector('#set-center option', { state: 'attached', timeout: 15000 }).catch(() => {});
  await axeClean(page, 'eligibilities');
  await page.selectOption('#set-center', { label: 'Walk Centre (WALK-ORG)' });
  await page.selectOption('#set-delivery', { label });
  await page.focus('#set-takers');
  await page.keyboard.type('wt1, wt2');
  await page.selectOption('#set-proctored', 'no');
  await tabTo(page, '#set-form button[type=submit]');
  await page.keyboard.press('Enter');
  const elig = await done(page, /Eligibility created/);
  check('the eligibility is created for the two test takers', /Eligibility created: 2 test takers/.test(elig), elig);
  const erow = await page.textContent('#eligibilities tbody tr:has-text("Walk Centre")').catch(() => '');
  check('listed: Walk Centre, the delivery, wt1 and wt2, not proctored', erow.includes(label) && /wt1, wt2/.test(erow) && /No/.test(erow), erow);
  await axeClean(page, 'eligibilities-set');
  await shot(page, 'eligibilities');
  stamp('eligibility');

  // ============================================================ 5. the device ==
  const mgr = await newPage(browser, undefined, allow);
  allProblems.push(mgr.problems);
  check("the imported sync manager's first login on the device enrols it", await deviceLogin(mgr.page, 'wsm1', /\/sync\.html$/));
  check('the device is enrolled into WALK-ORG', sqlite(C, "SELECT org_id FROM devices WHERE revoked = 0") === 'WALK-ORG',
    sqlite(C, 'SELECT org_id, revoked FROM devices'));
  check('the big button syncs it', await syncByButton(mgr.page, 1));
  check('it received records (the new center, its people, the delivery)', Number((await mgr.page.textContent('#records')).replace(/\D/g, '')) > 0,
    await mgr.page.textContent('#records'));
  await axeClean(mgr.page, 'device-synced');
  stamp('device synced');

  const taker = await newPage(browser, undefined, allow);
  allProblems.push(taker.problems);
  const ta = taker.page;
  check('an imported test taker logs in on the device', await deviceLogin(ta, 'wt1', /\/take\.html$/));
  check('and sees the delivery', await visible(ta, `button >> text="Start ${label}"`));
  await axeClean(ta, 'device-deliveries');
  await tabTo(ta, { text: `Start ${label}` });
  await ta.keyboard.press('Enter');
  // each item answered with the keys: a radio group moved to the wanted choice by the arrows,
  // a wanted box ticked with Space, a text typed
  async function answerItem() {
    const fields = await ta.$$eval('#item input, #item textarea', (xs) => xs.map((x) => ({ type: x.type, name: x.name, value: x.value })));
    const groups = new Set();
    for (const f of fields) {
      if (f.type === 'radio') {
        if (groups.has(f.name)) continue;
        groups.add(f.name);
        const values = fields.filter((x) => x.type === 'radio' && x.name === f.name).map((x) => x.value);
        const want = values.find((v) => (answers.radio || []).includes(v));
        if (!want) continue;
        await tabTo(ta, `#item input[type=radio][name="${f.name}"]`);
        for (let i = 0; i < values.length + 1 && !(await ta.evaluate((w) => document.activeElement.value === w, want)); i++)
          await ta.keyboard.press('ArrowDown');
        // (Tab enters a group with no choice at its first radio button, focused, not chosen)
        if (!(await ta.evaluate(() => document.activeElement.checked))) await ta.keyboard.press('Space');
      } else if (f.type === 'checkbox' && (answers.checkbox || []).includes(f.value)) {
        await tabTo(ta, `#item input[type=checkbox][value="${f.value}"]`);
        await ta.keyboard.press('Space');
      } else if (f.type === 'text' && answers.text) {
        await tabTo(ta, '#item input[type=text]');
        await ta.keyboard.type(answers.text);
      } else if (f.type === 'textarea' && answers.textarea) {
        await tabTo(ta, '#item textarea');
        await ta.keyboard.type(answers.textarea);
      }
    }
  }
  let finished = false, items = 0;
  for (let n = 0; n < 12 && !finished; n++) {
    if (!(await visible(ta, '#runner #item .qti-itemBody', 15000))) break;
    const progress = await ta.textContent('#item-progress');
    items++;
    await answerItem();
    if (n === 0) await axeClean(ta, 'device-item');
    if (await ta.isVisible('#next')) {
      await tabTo(ta, '#next');
      await ta.keyboard.press('Enter');
      await ta.waitForFunction((b) => document.getElementById('item-progress').textContent !== b, progress, { timeout: 15000 }).catch(() => {});
    } else {
      await tabTo(ta, '#finish');
      await ta.keyboard.press('Enter');
      await ta.waitForSelector('#confirm[open]');
      await ta.keyboard.press('Enter');
      finished = await visible(ta, '#done-title >> text=Test finished', 15000);
    }
  }
  check(`the test taker takes the test (${items} items) with the keyboard and finishes it`, finished);
  await axeClean(ta, 'device-finished');
  await shot(ta, 'device-finished');
  const execId = sqlite(world.device.dir, "SELECT id FROM executions WHERE state = 'finished'");
  check('the execution is finished on the device', execId !== '', execId);

  // the sync manager, still logged in, comes back to the sync page
  await mgr.page.goto(`${dev}/sync.html`);
  check('one result waits to be sent', await visible(mgr.page, '#waiting >> text=/^1/'));
  check('the button syncs again', await syncByButton(mgr.page, 2));
  check('the result is sent', (await mgr.page.textContent('#results')).trim() === '1', await mgr.page.textContent('#results'));
  await axeClean(mgr.page, 'device-sync');
  check('central received it, not decrypted yet',
    sqlite(C, `SELECT status FROM results WHERE execution_id = '${execId}'`) !== '' &&
    sqlite(C, `SELECT decrypted_at IS NULL FROM results WHERE execution_id = '${execId}'`) === '1',
    sqlite(C, `SELECT status, decrypted_at FROM results WHERE execution_id = '${execId}'`));
  stamp('taken and synced');

  // ============================================================ 6. the backoffice again ==
  const device = JSON.parse(outpost(['--data', C, 'devices', 'list', '--json']).stdout || '[]').find((d) => d.org_id === 'WALK-ORG') || {};
  await page.bringToFront();
  await navTo(page, 'devices', 'devices.html');
  const drow = `#rows tr[data-id="${device.id}"]`;
  check('the devices page shows the device', await visible(page, drow, 15000));
  const dcells = await page.$$eval(`${drow} > *`, (cs) => cs.map((c) => c.textContent.trim())).catch(() => []);
  check('with WALK-ORG, its sync manager wsm1, a last sync, nothing waiting, status OK',
    dcells[1] === 'WALK-ORG' && dcells[2] === 'wsm1' && dcells[3] && dcells[3] !== 'never' && dcells[4] === '0' && dcells[7] === 'OK', dcells);
  await axeClean(page, 'devices');
  await shot(page, 'devices');
  await tabTo(page, `${drow} a`);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/admin\/sync-history\.html\?device_id=/, { timeout: 10000 }).catch(() => {});
  await page.waitForSelector('#rows tr', { timeout: 15000 }).catch(() => {});
  const runs = await page.$$eval('#rows tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent.trim())));
  check("the sync history shows the device's two syncs, both OK", runs.length === 2 && runs.every((x) => x[3] === 'OK' && x[2] === 'WALK-ORG'), runs);
  await tabTo(page, '#rows tr:first-child button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#report:not([hidden])', { timeout: 10000 }).catch(() => {});
  const facts = await page.textContent('#report-facts').catch(() => '');
  check('the report of the last sync: one result sent, no error', /Results sent\s*1(?!\d)/.test(facts) && /Error\s*none/.test(facts), facts);
  await axeClean(page, 'sync-history');
  await shot(page, 'sync-history');
  stamp('devices');

  await navTo(page, 'results', 'results.html');
  await page.waitForSelector('#delivery option', { state: 'attached', timeout: 15000 }).catch(() => {});
  await page.selectOption('#delivery', deliveryId);
  await page.waitForSelector('#rows tr', { timeout: 15000 }).catch(() => {});
  const rowsOf = () => page.$$eval('#rows tr', (trs) => trs.map((tr) => ({ id: tr.dataset.id, cells: [...tr.children].map((c) => c.textContent.trim()) })));
  let rows = await rowsOf();
  check('the results tab lists the result, not decrypted yet', rows.length === 1 && rows[0].cells[6] === 'Not decrypted yet', rows);
  await axeClean(page, 'results-pending');
  await tabTo(page, '#decrypt');
  await page.keyboard.press('Enter');
  const dec = await done(page, /1 decrypted/, 30000);
  check('"Decrypt pending results" decrypts it', /1 decrypted, 0 damaged/.test(dec), dec);
  await page.waitForFunction(() => { const r = document.querySelector('#rows tr'); return r && /Decrypted/.test(r.textContent); }, null, { timeout: 15000 }).catch(() => {});
  rows = await rowsOf();
  const row = rows[0] || { cells: [] };
  const resultId = row.id;
  check('its row: the test taker, Walk Centre, the device, finished and decrypted',
    row.cells[0].includes('wt1') && row.cells[1] === 'Walk Centre' && row.cells[2] !== '' && row.cells[5] === 'Finished' && row.cells[6] === 'Decrypted', row.cells);
  const api = await page.evaluate(async (id) => (await fetch(`/api/v1/admin/results/${id}`)).json(), resultId);
  const res = api.result || api;
  const scoreName = ['SCORE_TOTAL', 'TOTAL_SCORE', 'SCORE'].find((k) => res.outcomes && typeof res.outcomes[k] === 'number');
  const score = scoreName ? res.outcomes[scoreName] : null;
  if (pkg === taoZip) check('the score is the one the answers give: 2 of 3 right', score === 2, res.outcomes);
  check(`the tab shows its score (${score}) and outcomes`, score !== null && row.cells[7].startsWith(String(score)) &&
    row.cells[8].includes(`${scoreName} = ${score}`), row.cells);
  await page.waitForSelector('#dist:not([hidden]) svg rect.bar', { timeout: 10000 }).catch(() => {});
  const bars = await page.$$eval('#dist svg rect.bar', (rs) => rs.map((x) => Number(x.dataset.count)));
  check('the score distribution is drawn: one scored result', bars.length > 0 && bars.reduce((a, b) => a + b, 0) === 1, bars);
  check('the count and the chart speak of one result in the singular', (await page.textContent('#count')).trim() === `1 result of ${label}` &&
    /^1 scored result: \S+\.$/.test((await page.textContent('#dist-summary')).trim()),
    [await page.textContent('#count'), await page.textContent('#dist-summary')]);
  await axeClean(page, 'results-decrypted');
  await shot(page, 'results');

  await tabTo(page, `#rows tr[data-id="${resultId}"] button`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail:not([hidden])', { timeout: 10000 }).catch(() => {});
  check('the result opens and takes the focus', await page.evaluate(() => document.activeElement.id === 'detail'));
  const itemRows = await page.$$eval('#item-rows tr', (rs) => rs.map((r) => r.textContent));
  check(`its answers per item (${itemRows.length})`, itemRows.length === items && itemRows.some((t) => /RESPONSE = /.test(t)), itemRows);
  if (pkg === taoZip) check('with the choices given', ['rhinoceros', 'zebra', 'jaguar'].every((v) => itemRows.some((t) => t.includes(`RESPONSE = ${v}`))), itemRows);
  const verdict = await page.textContent('#audit-verdict');
  check('its audit log, its chain verified', verdict.startsWith('Verified'), verdict);
  const who = await page.$$eval('#audit-rows tr', (rs) => rs.map((r) => r.cells[2].textContent));
  check('with its entries (start and finish at least), the test taker named by role and login', who.length >= 2 &&
    who.every((x) => x === 'Test taker wt1'), who);
  await axeClean(page, 'result-open');
  await shot(page, 'result-open');

  // the exports, downloaded as a person would
  async function download(sel) {
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), (async () => { await tabTo(page, sel); await page.keyboard.press('Enter'); })()]);
    const file = path.join(work, d.suggestedFilename());
    await d.saveAs(file);
    return file;
  }
  const csvFile = await download('#export-csv');
  check('Export CSV downloads a .csv', csvFile.endsWith('.csv'), csvFile);
  const table = parseCsv(fs.readFileSync(csvFile, 'utf8'));
  const head = table[0] || [];
  const line = table.find((r) => r[0] === resultId) || [];
  const col = (n) => line[head.indexOf(n)];
  check('the CSV holds the one result with a header', table.length === 2 && head[0] === 'result_id', table);
  check('the same test taker, center, state and status as the tab', col('test_taker_login') === 'wt1' && col('test_center') === 'Walk Centre' &&
    col('state') === 'finished' && col('status') === 'decrypted', line);
  check('the same score as the tab', Number(col('score')) === score && Number(col(scoreName)) === score, [col('score'), col(scoreName), score]);
  check("the same times, device and test taker's label as the result's",
    col('started_at') === res.started_at && col('ended_at') === res.ended_at && col('device') === (res.device && res.device.label) &&
    col('test_taker_label') === 'Walker One' && row.cells[2] === col('device'), [line, res.started_at, res.ended_at, res.device, row.cells[2]]);
  for (const [k, v] of Object.entries(res.outcomes || {}))
    if (typeof v === 'number') check(`the CSV's ${k} is the tab's (${v})`, Number(col(k)) === v, col(k));

  const zipFile = await download('#export-xml');
  check('Export QTI XML downloads a ZIP', zipFile.endsWith('.zip'), zipFile);
  const xmlDir = path.join(work, 'xml');
  fs.mkdirSync(xmlDir);
  execFileSync('unzip', ['-q', zipFile, '-d', xmlDir]);
  const docs = fs.readdirSync(xmlDir).filter((f) => f.endsWith('.xml'));
  check('the ZIP holds one assessmentResult document', docs.length === 1, docs);
  const xml = docs.length ? fs.readFileSync(path.join(xmlDir, docs[0]), 'utf8') : '';
  const outcomeIn = (name) => {
    const m = new RegExp(`<outcomeVariable identifier="${name}"[^>]*>\\s*<value>([^<]*)</value>`).exec(xml.slice(xml.indexOf('<testResult'), xml.indexOf('</testResult>')));
    return m ? Number(m[1]) : null;
  };
  check(`the XML's test result has the tab's ${scoreName}`, outcomeIn(scoreName) === score, xml.slice(0, 2000));
  if (pkg === taoZip) check('and the choices given', ['rhinoceros', 'zebra', 'jaguar'].every((v) => xml.includes(`<value>${v}</value>`)));
  check('and names the test taker', xml.includes('wt1') || xml.includes(res.test_taker && res.test_taker.id), xml.slice(0, 800));
  try {
    execFileSync('xmllint', ['--noout', '--schema', path.join(src, 'tests/fixtures/qti-results/imsqti_result_v2p1.xsd'), path.join(xmlDir, docs[0])], { stdio: 'pipe' });
    check("the XML validates against IMS's schema", true);
  } catch (e) {
    if (e.code === 'ENOENT') console.log('# xmllint is missing: the schema check is left out');
    else check("the XML validates against IMS's schema", false, String(e.stderr));
  }
  // the opened result's own document
  const oneFile = await download('#detail-xml');
  const one = fs.readFileSync(oneFile, 'utf8');
  check("the opened result's QTI XML is the export's document", one.trim() === xml.trim(), [oneFile, one.length, xml.length]);
  stamp('results');
} catch (e) {
  check('the walkthrough ran to the end', false, e.stack || String(e));
}
const unexpected = allProblems.flat();
check('no script error, CSP violation or unexpected refusal', unexpected.length === 0, unexpected);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
fs.rmSync(work, { recursive: true, force: true });
await finish(browser);
