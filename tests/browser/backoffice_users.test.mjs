// @world central
// backoffice_users.test.mjs - the backoffice's users page (web/admin/users.html) against a real
// central (tests/browser/run.sh): the super-user imports users from a CSV file (the progress
// bar while the passwords are hashed, then the report) and finds them by search and role; a
// CSV with a bad row imports nothing and the page lists the row; a user is edited, given a new
// password and deleted; pages of the list follow each other; a test-center administrator sees
// the users of their centers only, without import or delete. axe-core finds no serious or
// critical violation in any of these states.
import fs from 'node:fs';
import path from 'node:path';
import { axe, backofficeLogin, check, finish, launch, newPage, shot, sqlite, world } from './lib.mjs';

const url = world.central.url;
const dir = world.central.dir;
const expected = [/^401 .*\/api\/v1\/session$/];
const { browser, page, problems } = await launch(undefined, expected);

async function login(p, who, pw) {
  check(`${who} logs in to the backoffice`, await backofficeLogin(p, who, pw));
  await p.waitForSelector('#rows tr');
}
const logins = (p) => p.$$eval('#rows tr', (rs) => rs.map((r) => r.dataset.login));

await login(page, world.super_user.login, world.super_user.password);
check('the super-user sees the import section', await page.isVisible('#import'));
let v = await axe(page, 'users');
check('axe: no serious or critical violation on the users page', v.length === 0, v);

// ---- a good CSV: imported, with its progress shown ----
const work = world.work;
const good = path.join(work, 'new-takers.csv');
let csv = 'Login,Password,Label,First Name,Last Name\n';
for (let i = 1; i <= 60; i++) csv += `imp${String(i).padStart(2, '0')},pw-imp${i},Imported ${i},First${i},Last${i}\n`;
fs.writeFileSync(good, csv);
await page.setInputFiles('#import-file', good);
await page.selectOption('#import-role', 'test-taker');
await page.click('#import-go');
await page.waitForSelector('#import-progress-box:not([hidden])');
check('a progress bar shows while the import runs', await page.isVisible('#import-progress'));
await page.waitForSelector('#import-status:not([hidden])', { timeout: 60000 });
check('the report says what was imported', /Imported: 60 new users/.test(await page.textContent('#import-status')), await page.textContent('#import-status'));
check('the progress bar ends full', (await page.$eval('#import-progress', (p) => p.value)) === 100);
check('the 60 users are on central', sqlite(dir, "SELECT count(*) FROM users WHERE login LIKE 'imp%'") === '60');
v = await axe(page, 'users-imported');
check('axe: none after an import', v.length === 0, v);
await shot(page, 'users-imported');

// ---- a CSV with a bad row: nothing imported, the row shown ----
const bad = path.join(work, 'bad-takers.csv');
fs.writeFileSync(bad, 'Login,Password,Label\nbad01,pw-bad01,Fine row\n,pw-nobody,No login here\nbad03,pw-bad03,Fine too\n');
await page.setInputFiles('#import-file', bad);
await page.click('#import-go');
await page.waitForSelector('#import-status[data-kind=error]:not([hidden])', { timeout: 60000 });
check('the page says nothing was imported', /Nothing was imported/.test(await page.textContent('#import-status')), await page.textContent('#import-status'));
const refused = await page.$$eval('#import-problems tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
check('the refused row is listed with its line', refused.length === 1 && refused[0][0] === '3' && /login/i.test(refused[0][1]), refused);
check('and nothing of that file is on central', sqlite(dir, "SELECT count(*) FROM users WHERE login LIKE 'bad0%'") === '0');
v = await axe(page, 'users-refused');
check('axe: none with the refused rows shown', v.length === 0, v);
await shot(page, 'users-refused');

// ---- search, role filter, pages ----
await page.fill('#q', 'IMPORTED 1');
await page.press('#q', 'Enter');
await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 11);
let seen = await logins(page);
check('search finds by label, whatever the case', seen.length === 11 && seen.every((l) => /^imp1|^imp01$/.test(l) || l === 'imp01'), seen);
await page.fill('#q', '');
await page.selectOption('#role', 'proctor');
await page.click('#filters button[type=submit]');
await page.waitForFunction(() => [...document.querySelectorAll('#rows tr')].every((r) => r.dataset.login.startsWith('p')));
seen = await logins(page);
check('the role filter shows the proctors', JSON.stringify(seen) === JSON.stringify(['pa1', 'pa2', 'pb1']), seen);
await page.selectOption('#role', '');
await page.click('#filters button[type=submit]');
await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 50);
const first = await logins(page);
check('a page holds 50 users', first.length === 50);
check('Previous is off on the first page', await page.isDisabled('#prev'));
await page.click('#next');
await page.waitForFunction((f) => document.querySelector('#rows tr').dataset.login !== f, first[0]);
const second = await logins(page);
check('the next page goes on after the last login', second[0] > first[49], [first[49], second[0]]);
await page.click('#prev');
await page.waitForFunction((f) => document.querySelector('#rows tr').dataset.login === f, first[0]);
check('Previous comes back to the first page', (await logins(page))[0] === first[0]);

// ---- edit, password, delete ----
await page.fill('#q', 'imp02');
await page.press('#q', 'Enter');
await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1);
await page.click('button[aria-label="Edit imp02"]');
await page.waitForSelector('#edit[open]');
v = await axe(page, 'users-edit');
check('axe: none in the edit dialog', v.length === 0, v);
await page.fill('#f-mail', 'imp02@example.org');
await page.fill('#f-label', 'Second import');
await page.click('#edit-ok');
await page.waitForSelector('#done:not([hidden])');
check('the edit is saved', sqlite(dir, "SELECT mail || '|' || label FROM users WHERE login = 'imp02'") === 'imp02@example.org|Second import');
await page.click('button[aria-label="Reset password of imp02"]');
await page.waitForSelector('#pw[open]');
const hashBefore = sqlite(dir, "SELECT password_hash FROM users WHERE login = 'imp02'");
await page.fill('#pw-new', 'a-new-password');
await page.press('#pw-new', 'Enter');
await page.waitForFunction(() => !document.getElementById('pw').open);
check('the password is reset', sqlite(dir, "SELECT password_hash FROM users WHERE login = 'imp02'") !== hashBefore);
await page.click('button[aria-label="Delete imp02"]');
await page.waitForSelector('#del[open]');
await page.click('#del-form button.danger');
await page.waitForFunction(() => !document.getElementById('del').open);
check('the user is deleted', sqlite(dir, "SELECT count(*) FROM users WHERE login = 'imp02'") === '0');
check('the super-user saw no unexpected error', problems.length === 0, problems);

// ---- a test-center administrator: their centers' users only ----
const admin = await newPage(browser, undefined, expected);
await login(admin.page, 'tca', 'pw-tca');
const theirs = await logins(admin.page);
check('an administrator sees the staff and test takers of their centers', ['pa1', 'ta1', 'ta2', 'ta3', 'tca'].every((l) => theirs.includes(l)), theirs);
check('and no one of another center', !theirs.includes('tb1') && !theirs.includes('pb1') && !theirs.includes('imp01'), theirs);
check('no import for them', await admin.page.isHidden('#import'));
check('no delete for them', (await admin.page.$$('#rows button.danger')).length === 0);
v = await axe(admin.page, 'users-admin');
check('axe: none on the administrator\'s users page', v.length === 0, v);
await shot(admin.page, 'users-admin');
check('the administrator saw no unexpected error', admin.problems.length === 0, admin.problems);
await finish(browser);
