// @world central
// backoffice_admin.test.mjs - central's backoffice pages for test centers, eligibilities and
// deliveries (web/admin/centers.html, eligibilities.html, deliveries.html; docs/api.md
// "Backoffice: test centers, eligibilities, deliveries") against a real central
// (tests/browser/run.sh): the super-user creates a test center with an organisation id,
// uploads a real TAO package (../shared/samples/qti/tao/basic/Basic.zip, OUTPOST_SAMPLES; said
// and left out when the folder is absent) with the upload's and the import's progress shown,
// sees a broken package refused with every problem listed with its file and line, creates an
// eligibility for the new center, withdraws and publishes a delivery, reads its versions;
// a test-center administrator sees only their centers and no upload. axe-core finds no
// serious or critical violation on each page and state.
import fs from 'node:fs';
import path from 'node:path';
import { axe, backofficeLogin, check, finish, launch, newPage, outpost, shot, src, world } from './lib.mjs';

const url = world.central.url;
const samples = path.join(process.env.OUTPOST_SAMPLES || path.join(src, '../shared/samples'), 'qti/tao');
const haveSamples = fs.existsSync(path.join(samples, 'basic/Basic.zip'));
if (!haveSamples)
  console.log(`SKIP (part): the TAO samples folder ${samples} is absent: no TAO package is uploaded in this run`);

// expected: the login page asks for a session first (401); the wrong login below (400)
const expected = [/^401 .*\/api\/v1\/session$/, /^400 .*\/api\/v1\/admin\/eligibilities$/];
const { browser, page, problems } = await launch({ width: 1280, height: 900 }, expected);
page.on('dialog', (d) => d.accept());

const login = async (p, who, pw) => check(`${who} logs in to the backoffice`, await backofficeLogin(p, who, pw));

async function axeClean(p, name) {
  const v = await axe(p, name);
  check(`axe: no serious or critical violation on ${name}`, v.length === 0, v);
}

await login(page, world.super_user.login, world.super_user.password);

// ---- a test center with an organisation id ----
await page.goto(`${url}/admin/centers.html`);
await page.waitForSelector('#centers tbody tr');
await axeClean(page, 'centers');
await page.fill('#add-label', 'Lycee Hugo');
await page.fill('#add-org', 'LVH-01');
await page.selectOption('#add-parent', '');
await page.click('#add-form button[type=submit]');
await page.waitForSelector('#done:not([hidden])');
check('the page says the center was added', /Lycee Hugo added/.test(await page.textContent('#done')), await page.textContent('#done'));
const row = page.locator('#centers tbody tr', { hasText: 'Lycee Hugo' });
check('the new center is listed with its organisation id', (await row.textContent()).includes('LVH-01'), await row.textContent());
const listed = outpost(['--data', world.central.dir, 'testcenters', 'list', '--json']);
check('central holds it with that organisation id', /"label": "Lycee Hugo"[\s\S]*?"org_id": "LVH-01"|"org_id": "LVH-01"/.test(listed.stdout), listed.stdout);
// its staff: a proctor assigned through the dialog
await row.getByRole('button', { name: 'Staff of Lycee Hugo' }).click();
await page.waitForSelector('#staff[open]');
await page.fill('#staff-login', 'pa1');
await page.selectOption('#staff-duty', 'proctor');
await page.click('#staff-add');
await page.waitForSelector('#staff-list li:has-text("pa1")');
await axeClean(page, 'centers-staff');
await page.click('#staff .dialog-cancel');
await shot(page, 'centers');

// ---- deliveries: upload with progress ----
await page.goto(`${url}/admin/deliveries.html`);
await page.waitForSelector('#deliveries tbody tr');
check('the super-user has the upload form', await page.isVisible('#upload-form'));
await axeClean(page, 'deliveries');
let delivery = 'Maths';
if (haveSamples) {
  await page.setInputFiles('#up-file', path.join(samples, 'basic/Basic.zip'));
  await page.fill('#up-label', 'Basic TAO');
  await page.click('#up-button');
  await page.waitForSelector('#done:not([hidden])', { timeout: 60000 });
  check('the upload bar reached its end', (await page.getAttribute('#up-bar', 'value')) === '100');
  check('the import bar reached its end', (await page.getAttribute('#imp-bar', 'value')) === '100');
  check('the page says the package was imported', /Basic\.zip is imported: delivery Basic TAO/.test(await page.textContent('#done')), await page.textContent('#done'));
  await page.waitForSelector('#deliveries tbody tr:has-text("Basic TAO")');
  await axeClean(page, 'deliveries-imported');
  await shot(page, 'deliveries-imported');
  delivery = 'Basic TAO';

  // a broken package: refused, every problem listed with its file
  const broken = path.join(samples, 'invalid/MultipleMalformedXMLItem.zip');
  if (fs.existsSync(broken)) {
    await page.setInputFiles('#up-file', broken);
    await page.click('#up-button');
    await page.waitForSelector('#problems-box:not([hidden])', { timeout: 60000 });
    const items = await page.$$eval('#problems li', (ls) => ls.map((l) => l.textContent));
    check('a refused package lists its problems', items.length >= 1, items);
    check('each problem names its file and line', items.every((s) => /^[^ ]+\.xml, line \d+: /.test(s)), items);
    check('every bad item is listed, not only the first', items.length >= 2, items);
    check('the page says nothing was imported', /nothing was imported/.test(await page.textContent('#message')), await page.textContent('#message'));
    console.log(`  problems listed: ${items.length}: ${items.join(' | ')}`);
    await axeClean(page, 'deliveries-refused');
    await shot(page, 'deliveries-refused');
  }
}

// versions, withdraw and publish
const drow = page.locator('#deliveries tbody tr', { hasText: delivery });
await drow.getByRole('button', { name: `Versions of ${delivery}` }).click();
await page.waitForSelector('#versions-section:not([hidden]) #versions tbody tr');
check('the versions of the delivery are shown', (await page.textContent('#versions tbody')).includes('Yes'));
await drow.getByRole('button', { name: `Withdraw ${delivery}` }).click();
await page.waitForSelector(`#deliveries tbody tr:has-text("${delivery}") >> text=Withdrawn`);
check('the delivery is withdrawn', true);
await page.locator('#deliveries tbody tr', { hasText: delivery }).getByRole('button', { name: `Publish ${delivery}` }).click();
await page.waitForSelector(`#deliveries tbody tr:has-text("${delivery}") >> text=Published`);
check('and published again', true);
await axeClean(page, 'deliveries-versions');

// ---- an eligibility for the new center ----
await page.goto(`${url}/admin/eligibilities.html`);
await page.waitForSelector('#set-center option', { state: 'attached' });
await axeClean(page, 'eligibilities');
await page.selectOption('#set-center', { label: 'Lycee Hugo (LVH-01)' });
await page.selectOption('#set-delivery', { label: delivery });
await page.fill('#set-takers', 'ta1, ta2');
await page.selectOption('#set-proctored', 'no');
await page.click('#set-form button[type=submit]');
await page.waitForSelector('#done:not([hidden])');
check('the page says the eligibility was created', /Eligibility created: 2 test takers/.test(await page.textContent('#done')), await page.textContent('#done'));
await page.waitForSelector('#eligibilities tbody tr:has-text("Lycee Hugo")');
const erow = await page.textContent('#eligibilities tbody tr:has-text("Lycee Hugo")');
check('it is listed with its test takers, not proctored', /ta1, ta2/.test(erow) && /No/.test(erow), erow);
const el = outpost(['--data', world.central.dir, 'eligibilities', 'list', '--json']);
check('central holds the eligibility', el.stdout.includes('"center_label": "Lycee Hugo"'), el.stdout);
// a wrong login: named, nothing changed
await page.fill('#set-takers', 'ta1, ghost');
await page.click('#set-form button[type=submit]');
await page.waitForSelector('#message:not([hidden])');
check('an unknown login is named', /ghost/.test(await page.textContent('#message')), await page.textContent('#message'));
await axeClean(page, 'eligibilities-error');
await shot(page, 'eligibilities');

// ---- a test-center administrator: their centers only, no upload ----
const other = await newPage(browser, { width: 1280, height: 900 }, expected);
await login(other.page, 'tca', 'pw-tca');
await other.page.goto(`${url}/admin/centers.html`);
await other.page.waitForSelector('#centers tbody tr');
const theirs = await other.page.textContent('#centers tbody');
check('an administrator sees their centers', /A North/.test(theirs) && /A North Annex/.test(theirs), theirs);
check('and not the others', !/B Centre/.test(theirs) && !/Lycee Hugo/.test(theirs), theirs);
await other.page.goto(`${url}/admin/deliveries.html`);
await other.page.waitForSelector('#deliveries tbody tr');
check('an administrator has no upload form', !(await other.page.isVisible('#upload-form')));
check('nor withdraw buttons', (await other.page.$$('#deliveries button.danger')).length === 0);
await axeClean(other.page, 'deliveries-admin');

// the browser's own console line for the expected 400 is not a problem either
const unexpected = problems.concat(other.problems).filter((s) => !/status of 400 \(Bad Request\)/.test(s));
check('the pages saw no unexpected error', unexpected.length === 0, unexpected);
await finish(browser);
