// @world central+device
// bo_devices.test.mjs - the backoffice's devices and sync history pages (web/admin/devices.html,
// sync-history.html; docs/api.md "Devices and their syncs") in a world of a real central and a
// real device (tests/browser/run.sh): the device is enrolled by its sync manager and synced by
// `outpost sync`; the super-user sees it on the devices page (organisation, sync manager, last
// sync, results waiting, clock offset, software, status), follows it to its syncs and reads
// the report of the run; an administrator of the other organisation sees no device; the
// super-user revokes it and the device's next sync is refused. axe-core on every state.
import { axe, backofficeLogin, check, finish, launch, newPage, outpost, shot, world } from './lib.mjs';

const url = world.central.url;
const C = world.central.dir, D = world.device.dir;

// the device enrolled by its sync manager, then synced
let r = outpost(['--data', D, 'enrol', '--login', 'sm-a', '--password-stdin'], 'pw-sm-a\n');
check('the sync manager enrols the device', r.status === 0, r.stderr);
r = outpost(['--data', D, 'sync']);
check('the device syncs', r.status === 0, r.stderr || r.stdout);
const listed = JSON.parse(outpost(['--data', C, 'devices', 'list', '--json']).stdout || '[]');
const dev = listed[0] || {};
check('central lists the device', listed.length === 1 && dev.org_id === 'ORG-A', listed);

// an administrator of the other organisation (B Centre, ORG-B)
r = outpost(['--data', C, 'users', 'add', '--login', 'tcb', '--role', 'test-center-admin'], 'pw-tcb\n');
check('an administrator of ORG-B is added', r.status === 0, r.stderr);
r = outpost(['--data', C, 'testcenters', 'assign', 'B Centre', '--admin', 'tcb']);
check('and given B Centre', r.status === 0, r.stderr);

// the login page asks for a session before there is one
const expected = [/^401 .*\/api\/v1\/session$/];
const { browser, page, problems } = await launch({ width: 1400, height: 900 }, expected);

await backofficeLogin(page, 'admin', 'admin-password');
await page.goto(`${url}/admin/devices.html`);
const row = `#rows tr[data-id="${dev.id}"]`;
const shown = await page.waitForSelector(row, { timeout: 15000 }).then(() => true, () => false);
check('the devices page shows the device', shown);
const cells = shown ? await page.$$eval(`${row} > *`, (cs) => cs.map((c) => c.textContent.trim())) : [];
check('with its label and id', cells[0] && cells[0].includes(dev.id), cells);
check('its organisation', cells[1] === 'ORG-A', cells);
check('the sync manager who enrolled it', cells[2] === 'sm-a', cells);
check('its last sync', cells[3] && cells[3] !== 'never', cells);
check('the results waiting it reported', cells[4] === '0', cells);
check('its clock offset', /^[+-]?\d+ s$/.test(cells[5] || ''), cells);
check('its software version', /^\d+\.\d+/.test(cells[6] || ''), cells);
check('the status of its last sync', cells[7] === 'OK', cells);
let v = await axe(page, 'devices');
check('axe: no serious or critical violation on the devices page', v.length === 0, v);
await shot(page, 'devices');

// to its syncs, by the keyboard
await page.focus(`${row} a`);
await page.keyboard.press('Enter');
await page.waitForURL(/\/admin\/sync-history\.html\?device_id=/, { timeout: 10000 }).catch(() => {});
check('the Syncs link opens its sync history', page.url().includes(`device_id=${dev.id}`), page.url());
const runShown = await page.waitForSelector('#rows tr', { timeout: 15000 }).then(() => true, () => false);
check('the sync history shows the device\'s sync', runShown);
check('with the device chosen in the filter', (await page.inputValue('#device')) === dev.id);
const run = runShown ? await page.$$eval('#rows tr:first-child > *', (cs) => cs.map((c) => c.textContent.trim())) : [];
check('its outcome, device and organisation', run[3] === 'OK' && run[1] === dev.label && run[2] === 'ORG-A', run);
check('and what it received', /new, .* changed, .* removed/.test(run[4] || ''), run);
await page.focus('#rows tr:first-child button');
await page.keyboard.press('Enter');
await page.waitForSelector('#report:not([hidden])', { timeout: 10000 }).catch(() => {});
check('the report of the run opens and takes the focus',
  await page.evaluate(() => document.activeElement && document.activeElement.id === 'report'));
const entities = await page.$$eval('#report-rows th', (ts) => ts.map((x) => x.textContent));
check('the report counts the records per entity', entities.length > 0, entities);
const facts = await page.textContent('#report-facts');
check('the report says it ended without error', /Error\s*none/.test(facts), facts);
v = await axe(page, 'sync-history');
check('axe: no serious or critical violation on the sync history', v.length === 0, v);
await shot(page, 'sync-history');

// filters: no failed run
await page.selectOption('#status', 'failed');
await page.click('#filters button[type=submit]');
await page.waitForSelector('#none:not([hidden])', { timeout: 10000 }).catch(() => {});
check('no failed sync is listed', (await page.$$('#rows tr')).length === 0);

// the other organisation's administrator sees none of it
const other = await newPage(browser, { width: 1400, height: 900 },
  [...expected, /^404 .*\/api\/v1\/admin\/devices\//]);
await backofficeLogin(other.page, 'tcb', 'pw-tcb');
await other.page.goto(`${url}/admin/devices.html`);
await other.page.waitForSelector('#none:not([hidden])', { timeout: 15000 }).catch(() => {});
check('an administrator of ORG-B sees no device', (await other.page.$$('#rows tr')).length === 0);
await other.page.goto(`${url}/admin/sync-history.html`);
await other.page.waitForSelector('#none:not([hidden])', { timeout: 15000 }).catch(() => {});
check('and no sync', (await other.page.$$('#rows tr')).length === 0);
const status = await other.page.evaluate(async (id) => (await fetch(`/api/v1/admin/devices/${id}`)).status, dev.id);
check('and the device answers 404 to them', status === 404, status);
check('their pages saw no unexpected error', other.problems.length === 0, other.problems);

// revoke, confirmed
await page.goto(`${url}/admin/devices.html`);
await page.waitForSelector(row);
await page.click(`${row} button`);
await page.waitForSelector('#ask[open]');
v = await axe(page, 'revoke-dialog');
check('axe: none with the revoke dialog open', v.length === 0, v);
await page.click('#ask-ok');
await page.waitForFunction((sel) => {
  const c = document.querySelector(`${sel} > td:nth-of-type(7)`);
  return c && c.textContent === 'Revoked';
}, row, { timeout: 10000 }).catch(() => {});
check('the device shows revoked', (await page.textContent(`${row} > td:nth-of-type(7)`)) === 'Revoked');
check('and says so', /is revoked/.test(await page.textContent('#done')));
r = outpost(['--data', D, 'sync']);
check('the revoked device can no longer sync', r.status !== 0, r.stdout);

check('the pages saw no unexpected error', problems.length === 0, problems);
await finish(browser);
