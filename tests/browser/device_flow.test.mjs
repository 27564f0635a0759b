// @world central+device
// device_flow.test.mjs - the device's pages against the real servers of tests/browser/run.sh
// (a central and a device registered with it, not enrolled), end to end:
//
//  1. the sync manager's first login enrols the device; the big button syncs it: progress,
//     then the outcome, then the run in the history;
//  2. a proctor (two screens) and a test taker of a proctored delivery: the taker's page waits,
//     follows the authorization, the pause (paused notice) and the resume; extra time shows;
//     the stale second screen is refused with the 409 message;
//  3. a test taker takes the fixture package with one item per interaction
//     (tests/browser/fixtures/interactions, with a 30-minute limit, imported on central with
//     `outpost import-qti`) with the KEYBOARD ALONE, reloads in the middle (same item, same
//     answers), the device's `outpost serve` restarts in the middle (the page goes to the
//     login, and after it resumes at the same item with the right time left), and finishes;
//  4. the button syncs the result; central's `decrypt-results --all` and `results show` give
//     the scores `outpost qti run` gives for the same responses on the same package (16).
//
// axe-core: no serious or critical violation on every page state; a screenshot of each in
// OUTPOST_ARTIFACTS (device_flow-*.png).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { a11y, artifacts, check, deviceLogin as login, finish, openWorld, outpost, restartDevice, sqlite, syncByButton, tabTo, visible, world } from './lib.mjs';

const C = world.central.dir;
const started = Date.now();
const stamp = (what) => console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
const seconds = (txt) => { const m = /^(?:(\d+):)?(\d+):(\d\d)$/.exec((txt || '').trim()); return m ? (Number(m[1] || 0) * 3600) + Number(m[2]) * 60 + Number(m[3]) : NaN; };

// ---- on central, before the device syncs: the fixture package with a time limit for ta1,
// and Maths proctored ----
const w = await openWorld({
  allow: [/^401 .*\/api\/v1\//], fixture: 'interactions', label: 'Every interaction', takers: ['ta1'], sync: false,
  edit: (dir) => {
    const testXml = path.join(dir, 'test.xml');
    fs.writeFileSync(testXml, fs.readFileSync(testXml, 'utf8').replace(/(<outcomeDeclaration [^>]*\/>)/, '$1\n  <timeLimits maxTime="1800"/>'));
  },
});
const { browser, page, zip, work } = w;
const r = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'Maths', '--test-takers', 'ta1,ta2,ta3', '--proctored', 'yes']);
check('central: outpost eligibilities set Maths', r.status === 0, r.stderr);

try {
  // ================================================= 1. first login, the big button ==
  const mgr = await page();
  await mgr.goto(`${world.device.url}/`);
  await a11y(mgr, 'login');
  check("the sync manager's first login enrols the device and opens the sync page", await login(mgr, 'sm-a', /\/sync\.html$/));
  check('the readiness panel shows central reachable', await visible(mgr, '#central >> text=/Reachable/'));
  check('no sync yet', await visible(mgr, '#history-none'));
  await a11y(mgr, 'sync-idle');
  // every text the progress box shows, as the page changes it
  await mgr.evaluate(() => {
    window.seen = [];
    const note = () => window.seen.push(`${document.getElementById('sync-state').textContent}|${document.getElementById('phase').textContent}`);
    new MutationObserver(note).observe(document.getElementById('progress-box'), { subtree: true, childList: true, characterData: true });
  });
  await tabTo(mgr, '#start');
  await mgr.keyboard.press('Enter');
  check('the outcome is shown', await visible(mgr, '#sync-state >> text=Synchronisation finished successfully.', 60000));
  const seen = await mgr.evaluate(() => window.seen);
  check('progress was shown while it ran', seen.some((x) => x.startsWith('Synchronisation in progress|')), seen);
  check('the phase at the end is done', (await mgr.textContent('#phase')) === 'done');
  check('the records received are counted', Number((await mgr.textContent('#records')).replace(/\D/g, '')) > 0, await mgr.textContent('#records'));
  check('the run is in the history', await visible(mgr, '#history-rows tr >> text=ok'));
  await a11y(mgr, 'sync-done');

  stamp('synced');
  // ================================================= 2. proctor and test taker ==
  const taker2 = await page();
  check('a test taker logs in', await login(taker2, 'ta2', /\/take\.html$/));
  check('and sees the proctored delivery', await visible(taker2, 'button >> text=Start Maths'));
  await a11y(taker2, 'deliveries');
  await tabTo(taker2, 'button.primary');
  await taker2.keyboard.press('Enter');
  check('a proctored start waits for a proctor', await visible(taker2, '#waiting'));
  await a11y(taker2, 'waiting');
  const exec2 = new URL(taker2.url()).searchParams.get('execution');

  const proctor = await page({ width: 1024, height: 768 });
  check('the proctor logs in', await login(proctor, 'pa1', /\/proctor\.html$/));
  const row = `tr[data-id="${exec2}"]`;
  check('the proctor sees the test taker waiting', await visible(proctor, `${row} >> text=Waiting for authorization`));
  // a second screen whose clock is held: it polls only when told to (clock.runFor), so that it
  // can be left stale on purpose
  const stale = await page({ width: 1024, height: 768 }, [/^409 .*\/pause$/]);
  await stale.clock.install();
  check('a second proctor screen', await login(stale, 'pa1', /\/proctor\.html$/));
  await a11y(proctor, 'proctor-waiting');
  await tabTo(proctor, `${row} button[data-action=authorize]`);
  await proctor.keyboard.press('Enter');
  check("the taker's page follows the authorization: the test", await visible(taker2, '#runner #item .qti-itemBody', 15000));
  check('the proctor sees it in progress', await visible(proctor, `${row} >> text=In progress`, 10000));
  await stale.clock.runFor(3000);
  check('the second screen too (polled)', await visible(stale, `${row} >> text=In progress`, 10000));
  await a11y(taker2, 'item');
  await a11y(proctor, 'proctor-active');
  const before = seconds(await taker2.textContent('#timer'));
  check('a timer shows the time left', before > 1700 && before <= 1800, before);

  // pause on one screen, then the same on the stale one before it polls again
  await proctor.click(`${row} button[data-action=pause]`);
  check('the pause is done', await visible(proctor, '#done >> text=/Pause: done/'));
  await stale.click(`${row} button[data-action=pause]`);
  check('a stale proctor screen gets the 409 message', await visible(stale, '#message >> text=Someone else changed this', 5000));
  await stale.clock.runFor(3000);
  check('and then shows the fresh state', await visible(stale, `${row} >> text=Paused`, 5000));
  check("the taker's page follows the pause", await visible(taker2, '#paused', 8000));
  await a11y(taker2, 'paused');
  await proctor.click(`${row} button[data-action=resume]`);
  check("the taker's page follows the resume", await visible(taker2, '#runner #item .qti-itemBody', 8000));
  await proctor.click(`${row} button[data-action=extra-time]`);
  await proctor.fill('#ask-minutes', '10');
  await proctor.keyboard.press('Enter');
  check('extra time is given', await visible(proctor, '#done >> text=/Extra time: done/'));
  await taker2.waitForFunction((b) => {
    const m = /^(\d+):(\d\d)$/.exec(document.getElementById('timer').textContent.trim());
    return m && Number(m[1]) * 60 + Number(m[2]) > b + 500;
  }, before, { timeout: 8000 }).catch(() => {});
  const after = seconds(await taker2.textContent('#timer'));
  check("the taker's timer shows the extra time", after > before + 500 && after <= 2400, `${before} -> ${after}`);
  // its next poll (every 2.5 s, later under load) brings the time left with the extra time
  await proctor.waitForFunction((sel) => {
    const m = /\d+:\d\d(:\d\d)?/.exec((document.querySelector(sel) || {}).textContent || '');
    return m && m[0].split(':').map(Number).reduce((a, b) => a * 60 + b, 0) > 2000;
  }, row, { timeout: 15000 }).catch(() => {});
  const rowText = await proctor.textContent(row);
  const shownLeft = seconds((/\d+:\d\d(:\d\d)?/.exec(rowText) || [''])[0]);
  check('the proctor sees the time left with it', shownLeft > 2000, rowText);
  await a11y(proctor, 'proctor-extra-time');
  for (const p of [stale]) await p.context().close();

  stamp('proctored');
  // ================================================= 3. keyboard alone, reload, restart ==
  const ta = await page();
  const kb = ta.keyboard;
  const press = async (key, n = 1) => { for (let i = 0; i < n; i++) await kb.press(key); };
  const arrowTo = async (sel, key) => {
    for (let i = 0; i < 20; i++) {
      if (await ta.evaluate((s) => document.activeElement.matches(s), sel)) return;
      await kb.press(key);
    }
    throw new Error(`arrows never reached ${sel}`);
  };
  // the right answer of each item, keys only (as tests/browser/qti_renderer.test.mjs)
  const answers = {
    Q01: async () => { await tabTo(ta, 'input[type=radio]'); await arrowTo('input[value=B]', 'ArrowDown'); },
    Q02: async () => { await tabTo(ta, 'input[value=A]'); await press('Space'); await tabTo(ta, 'input[value=C]'); await press('Space'); },
    Q03: async () => { await tabTo(ta, 'input[type=text]'); await kb.type('4'); },
    Q04: async () => { await tabTo(ta, 'textarea'); await kb.type('Paris'); },
    Q05: async () => { await tabTo(ta, 'select'); await kb.type('0'); },
    Q06: async () => { await tabTo(ta, 'button[aria-label="Move 1 up"]'); await press('Enter'); await press('Enter'); },
    Q07: async () => {
      for (const [x, y] of [['Cat', 'Kitten'], ['Dog', 'Puppy']]) {
        await tabTo(ta, 'select[aria-label="First of the pair"]', true);
        await kb.type(x);
        await press('Tab');
        await kb.type(y);
        await tabTo(ta, '.qti-pair-form button');
        await press('Enter');
      }
    },
    Q08: async () => {
      await tabTo(ta, 'input[aria-label="Italy with Rome"]'); await press('Space');
      await tabTo(ta, 'input[aria-label="Spain with Madrid"]'); await press('Space');
    },
    Q09: async () => {
      await tabTo(ta, 'select[aria-label="Gap 1"]'); await kb.type('sun');
      await tabTo(ta, 'select[aria-label="Gap 2"]'); await kb.type('moon');
    },
    Q10: async () => { await tabTo(ta, 'input[type=radio]'); await arrowTo('input[value=H2]', 'ArrowRight'); },
    Q11: async () => { await tabTo(ta, 'input[type=range]'); await press('ArrowRight', 7); },
    Q12: async () => { await tabTo(ta, '[data-identifier=C]'); await press('Space'); },
    Q13: async () => { for (const id of ['D', 'A', 'B', 'C']) { await tabTo(ta, `[data-identifier=${id}]`); await press('Space'); } },
    Q14: async () => { await tabTo(ta, '[data-identifier=A]'); await press('Enter'); await tabTo(ta, '[data-identifier=B]'); await press('Enter'); },
    Q15: async () => { await tabTo(ta, 'svg[role=application]'); await press('Shift+ArrowLeft'); await press('Shift+ArrowDown', 2); await press('Space'); },
    Q16: async () => { await tabTo(ta, 'button.qti-end-attempt'); await press('Enter'); },
  };
  const keys = Object.keys(answers);
  const at = (n) => visible(ta, `#item-progress >> text="Question ${n} of 16"`, 15000);

  check('the test taker logs in with the keyboard', await login(ta, 'ta1', /\/take\.html$/));
  check('and sees the delivery', await visible(ta, 'button >> text=Start Every interaction'));
  await tabTo(ta, { text: 'Start Every interaction' });
  await press('Enter');
  check('not proctored: the test begins at once', await at(1));
  const exec1 = new URL(ta.url()).searchParams.get('execution');
  let ok = true;
  let leftBefore, wallBefore;
  for (let i = 0; i < keys.length && ok; i++) {
    const n = i + 1;
    try {
      if (n === 9) {
        // ---- the device's server restarts in the middle ----
        leftBefore = seconds(await ta.textContent('#timer'));
        wallBefore = Date.now();
        await restartDevice();
        await ta.waitForURL(/\/index\.html/, { timeout: 15000 }).catch(() => {});
        check('after the restart the page asks to log in again (the session was in memory)', /\/index\.html/.test(ta.url()), ta.url());
        check('and logging in goes on with the test', await login(ta, 'ta1', /\/take\.html/));
        if (!ta.url().includes(`execution=${exec1}`)) {
          await tabTo(ta, { text: 'Resume Every interaction' });
          await press('Enter');
        }
        check('the restarted server resumes at the same item', await at(9));
        const left = seconds(await ta.textContent('#timer'));
        const expected = leftBefore - (Date.now() - wallBefore) / 1000;
        check('with the right time left', Math.abs(left - expected) <= 3, `${left} s shown, ${expected.toFixed(1)} s expected`);
        // the answers given before the restart are the server's: back to the item before
        await tabTo(ta, '#prev', true);
        await press('Enter');
        check('Previous after the restart shows question 8', await at(8));
        check('with the answers given before the restart', await ta.isChecked('input[aria-label="Italy with Rome"]') &&
          await ta.isChecked('input[aria-label="Spain with Madrid"]') && !(await ta.isChecked('input[aria-label="Italy with Madrid"]')));
        await tabTo(ta, '#next');
        await press('Enter');
        check('and Next goes back to question 9', await at(9));
      }
      await answers[keys[i]]();
      if (n === 4) {
        // ---- a reload in the middle: same item, the answer typed still there ----
        await ta.reload();
        check('a reload shows the same item', await at(4));
        await ta.waitForSelector('textarea');
        check('with the answer typed before it', (await ta.inputValue('textarea')) === 'Paris', await ta.inputValue('textarea'));
      }
      if (n === 3) await a11y(ta, 'item-text-entry');
      if (n < 16) {
        await tabTo(ta, '#next');
        await press('Enter');
        ok = await at(n + 1);
        check(`${keys[i]} answered with the keyboard, on to question ${n + 1}`, ok, await ta.textContent('#item-progress'));
      }
    } catch (e) {
      ok = check(`${keys[i]} answered with the keyboard`, false, e.message);
    }
  }
  if (ok) {
    // back to an answered item: the server's saved answer
    await tabTo(ta, '#prev', true);
    await press('Enter');
    check('Previous shows the saved answer of the item before', await at(15) && await visible(ta, '.qti-point, [data-point], circle', 5000));
    await tabTo(ta, '#next');
    await press('Enter');
    await at(16);
    await tabTo(ta, '#finish');
    await press('Enter');
    await ta.waitForSelector('#confirm[open]');
    await a11y(ta, 'finish-confirm');
    check('the confirm button has the focus', await ta.evaluate(() => document.activeElement.id === 'confirm-ok'));
    await press('Enter');
    check('the finished page', await visible(ta, '#done-title >> text=Test finished'));
    await a11y(ta, 'finished');
  }
  check('the execution is finished on the device',
    sqlite(world.device.dir, `SELECT state FROM executions WHERE id = '${exec1}'`) === 'finished');

  stamp('keyboard test');
  // ================================================= 4. the result reaches central ==
  const mgr2 = await page();
  check('the sync manager logs in again', await login(mgr2, 'sm-a', /\/sync\.html$/));
  check('one result waits to be sent', await visible(mgr2, '#waiting >> text=/^[1-9]/'));
  // (before the press the box shows the last run's outcome: the wait is for this run's end)
  check('the button syncs it', await syncByButton(mgr2, 2));
  const sent = await mgr2.evaluate(async () => [await (await fetch('/api/v1/sync')).json(), await (await fetch('/api/v1/sync/history')).json()]);
  check('the result is sent', Number(await mgr2.textContent('#results')) >= 1, [await mgr2.textContent('#results'), sent]);
  check('two runs in the history, both ok', (await mgr2.$$('#history-rows tr >> text=ok')).length >= 2);
  const dec = outpost(['--data', C, 'decrypt-results', '--all']);
  check('central decrypts the results', dec.status === 0 && /decrypted/.test(dec.stdout), dec.stdout + dec.stderr);
  const rid = sqlite(C, `SELECT id FROM results WHERE execution_id = '${exec1}'`);
  const shown = outpost(['--data', C, 'results', 'show', rid]);
  let res = null;
  try { res = JSON.parse(shown.stdout); } catch (e) { check('results show prints JSON', false, shown.stdout + shown.stderr); }
  if (res) {
    const out = res.outcome || {};
    const given = {};
    for (const k of keys) given[k] = (out.items && out.items[k] && out.items[k].responses) || {};
    fs.writeFileSync(path.join(work, 'responses.json'), JSON.stringify(given));
    const run = JSON.parse(execFileSync(process.env.OUTPOST || world.outpost, ['qti', 'run', '-f', zip, '--responses', path.join(work, 'responses.json')], { encoding: 'utf8' }));
    for (const k of keys) {
      const got = out.items && out.items[k] && out.items[k].outcomes && out.items[k].outcomes.SCORE;
      check(`${k}: central's score is qti run's and 1`, got === run.items[k].SCORE && got === 1, `central ${got}, qti run ${run.items[k].SCORE}, ${JSON.stringify(given[k])}`);
    }
    check('the test total is qti run\'s: 16', out.outcomes && out.outcomes.TOTAL === run.test.TOTAL && run.test.TOTAL === 16,
      `central ${out.outcomes && out.outcomes.TOTAL}, qti run ${run.test.TOTAL}`);
    fs.writeFileSync(path.join(artifacts, 'device_flow-result.json'), JSON.stringify(res, null, 1));
  }
} catch (e) {
  check('the flow ran to the end', false, e.stack || String(e));
}
check('no script error, CSP violation or unexpected refusal', w.problems().length === 0, w.problems());
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
await finish(browser);
