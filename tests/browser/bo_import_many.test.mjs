// @world central
// bo_import_many.test.mjs - the backoffice's upload (web/admin/deliveries.html) of packages
// that import-qti takes since issue 14, made from the project's own fixtures
// (tests/fixtures/qti, zipped by scripts/make-demo-package.sh): a package of two tests lists
// both deliveries it made, a package with links to pages it lacks is imported and lists the
// warnings with their file and line, and a package with its second test broken is refused
// with nothing imported; a package whose label a delivery has already is refused with the two
// ways on offered, and taken: the next version of that delivery, or another label (the
// upload kept by central, not sent again). axe-core finds no serious or critical violation
// in each state.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { axe, backofficeLogin, check, finish, launch, outpost, shot, src, world } from './lib.mjs';

const url = world.central.url;
const work = fs.mkdtempSync(path.join(world.work, 'import-many-'));
function zip(fixture, name, edit) {
  const dir = path.join(work, name);
  fs.cpSync(path.join(src, 'tests/fixtures/qti', fixture), dir, { recursive: true });
  if (edit)
    edit(dir);
  const out = path.join(work, `${name}.zip`);
  execFileSync('sh', [path.join(src, 'scripts/make-demo-package.sh'), out, dir]);
  return out;
}

const expected = [/^401 .*\/api\/v1\/session$/];
const { browser, page, problems } = await launch({ width: 1280, height: 900 }, expected);

async function axeClean(name) {
  const v = await axe(page, name);
  check(`axe: no serious or critical violation on ${name}`, v.length === 0, v);
}

async function upload(file, label) {
  await page.setInputFiles('#up-file', file);
  await page.fill('#up-label', label || '');
  await page.click('#up-button');
  await page.waitForFunction(() => !document.getElementById('done').hidden || !document.getElementById('message').hidden,
                             null, { timeout: 60000 });
}

check('the super-user logs in', await backofficeLogin(page, world.super_user.login, world.super_user.password));
await page.goto(`${url}/admin/deliveries.html`);
await page.waitForSelector('#upload-form');

// ---- two tests: two deliveries, both listed ----
const before = JSON.parse(outpost(['--data', world.central.dir, 'deliveries', 'list', '--json']).stdout).length;
await upload(zip('two-tests', 'Sciences'), 'Term 1');
check('the page says both deliveries were made', /Sciences\.zip is imported: 2 deliveries/.test(await page.textContent('#done')), await page.textContent('#done'));
const made = await page.$$eval('#made li', (ls) => ls.map((l) => l.textContent));
check('the deliveries made are listed by label', made.join('|') === 'Term 1 (1)|Term 1 (2)', made);
await page.waitForSelector('#deliveries tbody tr:has-text("Term 1 (2)")');
check('no warning box for a package without warnings', await page.isHidden('#warnings-box'));
const after = JSON.parse(outpost(['--data', world.central.dir, 'deliveries', 'list', '--json']).stdout).length;
check('central holds two more deliveries', after === before + 2, { before, after });
await axeClean('deliveries-two-tests');
await shot(page, 'deliveries-two-tests');

// ---- links to pages the package lacks: imported, the warnings listed ----
await upload(zip('links-outside', 'Geography'));
check('a package with links to absent pages is imported', /Geography\.zip is imported: delivery Links to pages outside the package/.test(await page.textContent('#done')), await page.textContent('#done'));
check('one delivery: no list of deliveries made', await page.isHidden('#made-box'));
await page.waitForSelector('#warnings-box:not([hidden])');
const warnings = await page.$$eval('#warnings li', (ls) => ls.map((l) => l.textContent));
check('five warnings are listed', warnings.length === 5, warnings);
check('each names its file and line', warnings.every((s) => /^[^ ]+\.xml, line \d+: the link to /.test(s)), warnings);
check('the absent page is named', warnings.some((s) => s.startsWith('items/linked.xml, line 18: the link to "../assets/legend.html" was made inert')), warnings);
await axeClean('deliveries-warnings');
await shot(page, 'deliveries-warnings');

// ---- a broken second test: refused, nothing imported ----
const n = JSON.parse(outpost(['--data', world.central.dir, 'deliveries', 'list', '--json']).stdout).length;
await upload(zip('two-tests', 'Broken', (dir) => {
  const f = path.join(dir, 'physics/test.xml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('../items/choice.xml', '../items/none.xml'));
}));
await page.waitForSelector('#problems-box:not([hidden])');
const items = await page.$$eval('#problems li', (ls) => ls.map((l) => l.textContent));
check('the refusal names the second test and its line', items.some((s) => s.startsWith('physics/test.xml, line 8: ')), items);
check('the page says nothing was imported', /nothing was imported/.test(await page.textContent('#message')), await page.textContent('#message'));
check('the previous warnings are gone', await page.isHidden('#warnings-box'));
const m = JSON.parse(outpost(['--data', world.central.dir, 'deliveries', 'list', '--json']).stdout).length;
check('no delivery was made, not even the first test\'s', m === n, { n, m });
await axeClean('deliveries-refused-second-test');

// ---- a label taken: the page offers a new version of that delivery or another label ----
const geo = 'Links to pages outside the package';
const deliveries = () => JSON.parse(outpost(['--data', world.central.dir, 'deliveries', 'list', '--json']).stdout);
const k = deliveries().length;
const changed = zip('links-outside', 'Geography-v2', (dir) => {
  const f = path.join(dir, 'items/linked.xml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('</itemBody>', '<p>One more line.</p></itemBody>'));
});
await upload(changed);
await page.waitForSelector('#taken-box:not([hidden])');
check('the refusal says the label is taken', (await page.textContent('#taken-text')).includes(`A delivery is labelled "${geo}" already`), await page.textContent('#taken-text'));
check('the problems name the delivery that has the label', (await page.textContent('#problems')).includes(`a delivery is labelled "${geo}"`), await page.textContent('#problems'));
const versionButton = await page.textContent('#taken-version');
check('a new version of that delivery is offered', versionButton === `Import as a new version of ${geo}`, versionButton);
check('another label is offered in a labelled field', await page.isVisible('label[for="taken-label"]'));
await axeClean('deliveries-label-taken');
await shot(page, 'deliveries-label-taken');
await page.click('#taken-version');
await page.waitForFunction(() => !document.getElementById('done').hidden || !document.getElementById('message').hidden,
                           null, { timeout: 60000 });
const doneText = await page.textContent('#done');
check('the package became version 2 of that delivery', doneText.includes(`${geo} is at version 2 now`), doneText);
check('the choices are gone once it is imported', await page.isHidden('#taken-box'));
const geoNow = deliveries().filter((d) => d.label === geo);
check('no second delivery of that label; version 2', deliveries().length === k && geoNow.length === 1 && geoNow[0].version === 2, geoNow);

// the same package again, under another label: a new delivery, without uploading it again
await upload(changed);
await page.waitForSelector('#taken-box:not([hidden])');
await page.fill('#taken-label', 'Geography, group B');
await page.click('#taken-button');
await page.waitForFunction(() => !document.getElementById('done').hidden || !document.getElementById('message').hidden,
                           null, { timeout: 60000 });
check('imported under the label typed', (await page.textContent('#done')).includes('delivery Geography, group B'), await page.textContent('#done'));
await page.waitForSelector('#deliveries tbody tr:has-text("Geography, group B")');
check('one more delivery', deliveries().length === k + 1, deliveries().length);
await axeClean('deliveries-imported-under-another-label');

check('the page saw no unexpected error', problems.length === 0, problems);
await finish(browser);
