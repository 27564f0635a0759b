// @world central+device
// qti_graphic.test.mjs - graphicGapMatchInteraction and positionObjectInteraction in the
// device's pages, against the real servers of tests/browser/run.sh.
//
// The fixture package tests/browser/fixtures/graphic (Q01: flags placed on a map, the gap
// images and hotspots of a graphicGapMatch; Q02: two tents and a flag placed on a campsite,
// two positionObjectInteractions sharing one positionObjectStage, the tents with a
// centerPoint and maxChoices 2) is imported on central with `outpost import-qti`; the sync
// manager's first login enrols the device and syncs it. Then
//
//  - ta1 answers both items with the MOUSE: picks a flag and clicks its country, drags a flag
//    out of the picture (it goes back) and another onto its country, clicks the campsite where
//    each tent goes (a third tent over maxChoices is refused by the page), drags the flag's
//    button off the picture (nothing placed) then onto it, and clicks the gate;
//  - ta3 answers both by TOUCH (a touch screen's taps and drags, in a context with touch);
//  - ta2 answers both with the KEYBOARD ALONE: Enter on a flag, the arrow keys to its
//    country, Enter; Enter on "Place A tent", the arrow keys to each pitch, Enter; Escape,
//    Tab to the flag, and the same;
//  - both finish; the button syncs the results; central's `decrypt-results --all` and
//    `results show` give, for each, the responses expected (the tent's centerPoint at the
//    pitch, not its corner) and the scores `outpost qti run` gives for them: Q01 2, Q02 3.
//
// axe-core: no serious or critical violation on each item, before and after answering.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { a11y, check, deviceLogin as login, finish, openWorld, outpost, shot, sqlite, syncByButton, tabTo, visible, world } from './lib.mjs';

const C = world.central.dir;
// ---- on central: the fixture package, for ta1, ta2 and ta3; the device enrolled and synced ----
const w = await openWorld({ allow: [/^401 .*\/api\/v1\//], fixture: 'graphic', label: 'Pictures', takers: ['ta1', 'ta2', 'ta3'] });
const { browser, page, zip, work } = w;
const at = (p, n) => visible(p, `#item-progress >> text="Question ${n} of 2"`, 15000);
// Clicks (or with `tap`, taps) the picture `layer` (an SVG over the image) on its pixel
// (x, y): at the first whole CSS pixel inside it, since an event's clientX/clientY are whole
// pixels.
async function clickAt(p, layer, x, y, tap) {
  const box = await p.locator(layer).boundingBox();
  const [w, h] = await p.evaluate((s) => { const vb = document.querySelector(s).viewBox.baseVal; return [vb.width, vb.height]; }, layer);
  const [cx, cy] = [Math.ceil(box.x + (x * box.width) / w), Math.ceil(box.y + (y * box.height) / h)];
  if (tap) await p.touchscreen.tap(cx, cy);
  else await p.mouse.click(cx, cy);
}
// The client point of the picture's pixel (x, y) (as clickAt finds it), and the middle of `sel`.
async function pointAt(p, layer, x, y) {
  const box = await p.locator(layer).boundingBox();
  const [w, h] = await p.evaluate((s) => { const vb = document.querySelector(s).viewBox.baseVal; return [vb.width, vb.height]; }, layer);
  return [Math.ceil(box.x + (x * box.width) / w), Math.ceil(box.y + (y * box.height) / h)];
}
async function middle(p, sel) {
  const b = await p.locator(sel).first().boundingBox();
  return [Math.round(b.x + b.width / 2), Math.round(b.y + b.height / 2)];
}
// Drags from the client point `from` to `to`: with the mouse (pressed, moved in steps,
// released), or with `touch` a finger, as a touch screen sends it (CDP's touch events, in a
// context with touch).
async function drag(p, from, to, touch) {
  if (!touch) {
    await p.mouse.move(from[0], from[1]);
    await p.mouse.down();
    await p.mouse.move(to[0], to[1], { steps: 8 });
    await p.mouse.up();
    return;
  }
  const cdp = await p.context().newCDPSession(p);
  const send = (type, pt) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: pt ? [{ x: pt[0], y: pt[1] }] : [] });
  await send('touchStart', from);
  for (let i = 1; i <= 8; i++) await send('touchMove', [from[0] + ((to[0] - from[0]) * i) / 8, from[1] + ((to[1] - from[1]) * i) / 8]);
  // the finger stops before it lifts, as it does on a drop: lifted while moving, it would fling,
  // and Chrome takes the next tap as the one that stops the fling (no click)
  for (let i = 0; i < 3; i++) { await p.waitForTimeout(50); await send('touchMove', to); }
  await send('touchEnd');
  await cdp.detach();
}
const placements = (p) => p.$$eval('.qti-pairs li span', (l) => l.map((n) => n.textContent));
const said = (p) => p.$$eval('.qti-sr[role=status]', (l) => l.map((n) => n.textContent).join(' | '));

const execs = {};
try {
  // ================================================================= the mouse (ta1) ==
  const ta1 = await page();
  check('ta1 logs in', await login(ta1, 'ta1', /\/take\.html$/));
  await ta1.click('button >> text=Start Pictures');
  check('ta1: question 1, the flags', await at(ta1, 1) && await visible(ta1, '.qti-graphicGapMatchInteraction .qti-stage-img'));
  execs.ta1 = new URL(ta1.url()).searchParams.get('execution');
  await a11y(ta1, 'flags-new');
  // the Italian flag on France, then the French flag replaces it (France holds one)
  await ta1.click('button.qti-gap-img[data-identifier=IT]');
  check('a picked flag is shown pressed', await ta1.getAttribute('button.qti-gap-img[data-identifier=IT]', 'aria-pressed') === 'true');
  await ta1.click('.qti-shape[data-identifier=ZF]');
  check('a click on the country places the picked flag there', JSON.stringify(await placements(ta1)) === '["Italian flag on France"]', await placements(ta1));
  await ta1.click('button.qti-gap-img[data-identifier=FR]');
  await ta1.click('.qti-shape[data-identifier=ZF]');
  check('France holds one flag: the French flag replaces the Italian one', JSON.stringify(await placements(ta1)) === '["French flag on France"]', await placements(ta1));
  const map = '.qti-graphicGapMatchInteraction svg.qti-stage-layer';
  await drag(ta1, await middle(ta1, 'button.qti-gap-img[data-identifier=IT]'), await middle(ta1, '.qti-graphicGapMatchInteraction .qti-hint'));
  check('the Italian flag dragged off the picture goes back to the images', JSON.stringify(await placements(ta1)) === '["French flag on France"]' &&
    /Italian flag was not dropped on an area/.test(await said(ta1)) &&
    (await ta1.getAttribute('button.qti-gap-img[data-identifier=IT]', 'aria-pressed')) === 'false', [await placements(ta1), await said(ta1)]);
  await drag(ta1, await middle(ta1, 'button.qti-gap-img[data-identifier=ES]'), await pointAt(ta1, map, 70, 150));
  check('the Spanish flag dragged with the mouse into the round country is placed there', JSON.stringify(await placements(ta1)) === '["French flag on France","Spanish flag on Spain"]', await placements(ta1));
  check('the placed flags are drawn on the map', (await ta1.$$('.qti-placed image')).length === 2);
  check('the areas say what they hold', (await ta1.getAttribute('.qti-shape[data-identifier=ZE]', 'aria-label')) === 'Spain, holds Spanish flag');
  await a11y(ta1, 'flags-answered');
  await ta1.click('#next');
  check('ta1: question 2, the campsite', await at(ta1, 2) && await visible(ta1, '.qti-position-stage .qti-stage-img'));
  await a11y(ta1, 'camp-new');
  const layer = '.qti-position-stage svg.qti-stage-layer';
  check('the first object (the tent) is picked at the start', (await ta1.getAttribute('.qti-positionObjectInteraction[data-response-identifier=TENTS] .qti-position-pick', 'aria-pressed')) === 'true');
  await clickAt(ta1, layer, 80, 80);
  await clickAt(ta1, layer, 300, 200);
  await clickAt(ta1, layer, 10, 10);
  check('a third tent (maxChoices 2) is refused by the page', /at most 2 times/.test(await said(ta1)) &&
    JSON.stringify(await placements(ta1)) === '["A tent at 80, 80","A tent at 300, 200"]', [await placements(ta1), await said(ta1)]);
  // the tent's image is drawn with its centerPoint (16 28) at the point
  const tentXY = await ta1.$eval('.qti-placed image', (n) => [Number(n.getAttribute('x')), Number(n.getAttribute('y'))]);
  check("the tent's centerPoint, not its corner, is at the point", tentXY[0] === 64 && tentXY[1] === 52, tentXY);
  const flagPick = '.qti-positionObjectInteraction[data-response-identifier=FLAG] .qti-position-pick';
  await drag(ta1, await middle(ta1, flagPick), await middle(ta1, '.qti-positionObjectInteraction[data-response-identifier=TENTS] .qti-hint'));
  check('the flag dragged off the picture is not placed', /The flag was not dropped on the picture/.test(await said(ta1)) &&
    JSON.stringify(await placements(ta1)) === '["A tent at 80, 80","A tent at 300, 200"]', [await placements(ta1), await said(ta1)]);
  await drag(ta1, await middle(ta1, flagPick), await pointAt(ta1, layer, 150, 250));
  check('the flag dragged with the mouse onto the picture is placed where it is dropped', (await ta1.getAttribute(flagPick, 'aria-pressed')) === 'true' &&
    JSON.stringify(await placements(ta1)) === '["A tent at 80, 80","A tent at 300, 200","The flag at 150, 250"]', await placements(ta1));
  await clickAt(ta1, layer, 200, 60);
  check('the flag (maxChoices 1) moves to the last click', JSON.stringify(await placements(ta1)) === '["A tent at 80, 80","A tent at 300, 200","The flag at 200, 60"]', await placements(ta1));
  await a11y(ta1, 'camp-answered');
  // back and forth: each item shows the answers the server kept
  await ta1.click('#prev');
  check('Previous shows the flags where they were placed', await at(ta1, 1) && await ta1.waitForFunction(() =>
    document.querySelectorAll('.qti-placed image').length === 2, null, { timeout: 5000 }).then(() => true, () => false) &&
    JSON.stringify(await placements(ta1)) === '["French flag on France","Spanish flag on Spain"]', await placements(ta1));
  await ta1.click('#next');
  check('Next shows the tents and the flag where they were placed', await at(ta1, 2) && await ta1.waitForFunction(() =>
    document.querySelectorAll('.qti-placed image').length === 3, null, { timeout: 5000 }).then(() => true, () => false) &&
    JSON.stringify(await placements(ta1)) === '["A tent at 80, 80","A tent at 300, 200","The flag at 200, 60"]', await placements(ta1));
  await ta1.click('#finish');
  await ta1.waitForSelector('#confirm[open]');
  await ta1.click('#confirm-ok');
  check('ta1 finishes', await visible(ta1, '#done-title >> text=Test finished'));

  // ================================================================= touch (ta3) ==
  const touchContext = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: false });
  const ta3 = await touchContext.newPage();
  const touchProblems = [];
  ta3.on('pageerror', (e) => touchProblems.push(String(e)));
  w.keep(touchProblems);
  check('ta3 logs in (a touch screen)', await login(ta3, 'ta3', /\/take\.html$/));
  await ta3.tap('button >> text=Start Pictures');
  check('ta3: question 1', await at(ta3, 1));
  execs.ta3 = new URL(ta3.url()).searchParams.get('execution');
  const tmap = '.qti-graphicGapMatchInteraction svg.qti-stage-layer';
  await drag(ta3, await middle(ta3, 'button.qti-gap-img[data-identifier=IT]'), await middle(ta3, '.qti-graphicGapMatchInteraction .qti-hint'), true);
  check('ta3: the Italian flag dragged by touch off the picture goes back', (await placements(ta3)).length === 0 &&
    /Italian flag was not dropped on an area/.test(await said(ta3)), [await placements(ta3), await said(ta3)]);
  await drag(ta3, await middle(ta3, 'button.qti-gap-img[data-identifier=FR]'), await pointAt(ta3, tmap, 130, 70), true);
  check('ta3: the French flag dragged by touch onto France is placed there', JSON.stringify(await placements(ta3)) === '["French flag on France"]', await placements(ta3));
  await ta3.tap('button.qti-gap-img[data-identifier=ES]');
  await clickAt(ta3, '.qti-graphicGapMatchInteraction svg.qti-stage-layer', 70, 150, true);
  check('ta3 placed both flags by dragging and tapping', JSON.stringify(await placements(ta3)) === '["French flag on France","Spanish flag on Spain"]', await placements(ta3));
  await ta3.tap('#next');
  check('ta3: question 2', await at(ta3, 2));
  const tlayer = '.qti-position-stage svg.qti-stage-layer';
  await drag(ta3, await middle(ta3, '.qti-positionObjectInteraction[data-response-identifier=TENTS] .qti-position-pick'), await pointAt(ta3, tlayer, 80, 80), true);
  check('ta3: a tent dragged by touch onto the picture is placed where it is dropped', JSON.stringify(await placements(ta3)) === '["A tent at 80, 80"]', await placements(ta3));
  await clickAt(ta3, tlayer, 300, 200, true);
  await drag(ta3, await middle(ta3, '.qti-positionObjectInteraction[data-response-identifier=FLAG] .qti-position-pick'), await pointAt(ta3, tlayer, 200, 60), true);
  check('ta3 placed the tents and the flag by dragging and tapping', JSON.stringify(await placements(ta3)) === '["A tent at 80, 80","A tent at 300, 200","The flag at 200, 60"]', await placements(ta3));
  await shot(ta3, 'camp-touch');
  await a11y(ta3, 'camp-touch-answered');
  await ta3.tap('#finish');
  await ta3.waitForSelector('#confirm[open]');
  await ta3.tap('#confirm-ok');
  check('ta3 finishes', await visible(ta3, '#done-title >> text=Test finished'));

  // ========================================================== the keyboard (ta2) ==
  const ta2 = await page();
  const kb = ta2.keyboard;
  const press = async (key, n = 1) => { for (let i = 0; i < n; i++) await kb.press(key); };
  check('ta2 logs in', await login(ta2, 'ta2', /\/take\.html$/));
  await tabTo(ta2, { text: 'Start Pictures' });
  await press('Enter');
  check('ta2: question 1', await at(ta2, 1));
  execs.ta2 = new URL(ta2.url()).searchParams.get('execution');
  await tabTo(ta2, 'button.qti-gap-img[data-identifier=FR]');
  await press('Enter');
  check('Enter on a flag picks it and moves to the first area', await ta2.evaluate(() => document.activeElement.dataset.identifier === 'ZF'));
  await press('Enter');
  await tabTo(ta2, 'button.qti-gap-img[data-identifier=ES]', true);
  await press('Space');
  await press('ArrowRight');
  check('the arrow keys move to the next area', await ta2.evaluate(() => document.activeElement.dataset.identifier === 'ZE'));
  await shot(ta2, 'flags-keyboard');
  await press('Enter');
  check('ta2 placed both flags with the keyboard', JSON.stringify(await placements(ta2)) === '["French flag on France","Spanish flag on Spain"]', await placements(ta2));
  await tabTo(ta2, '#next');
  await press('Enter');
  check('ta2: question 2', await at(ta2, 2));
  await tabTo(ta2, '.qti-positionObjectInteraction[data-response-identifier=TENTS] .qti-position-pick');
  await press('Enter');
  check('Enter on "Place A tent" moves to the picture', await ta2.evaluate(() => document.activeElement.matches('svg.qti-stage-layer[role=application]')));
  // the cursor starts at the middle (200 150)
  await press('Shift+ArrowLeft', 12);
  await press('Shift+ArrowUp', 7);
  await press('Enter');
  await press('Shift+ArrowRight', 22);
  await press('Shift+ArrowDown', 12);
  await press('Enter');
  check('two tents placed with the arrow keys and Enter', JSON.stringify(await placements(ta2)) === '["A tent at 80, 80","A tent at 300, 200"]', await placements(ta2));
  await press('Escape');
  check('Escape goes back to the tent button', await ta2.evaluate(() => document.activeElement.matches('.qti-position-pick')));
  await tabTo(ta2, '.qti-positionObjectInteraction[data-response-identifier=FLAG] .qti-position-pick');
  await press('Enter');
  await press('Shift+ArrowLeft', 10);
  await press('Shift+ArrowUp', 14);
  await press('ArrowDown');
  await press('Space');
  await press('Delete');
  check('Delete removes the last placement', JSON.stringify(await placements(ta2)) === '["A tent at 80, 80","A tent at 300, 200"]', await placements(ta2));
  await press('ArrowUp');
  await press('Enter');
  check('the flag placed with the keyboard', JSON.stringify(await placements(ta2)) === '["A tent at 80, 80","A tent at 300, 200","The flag at 200, 60"]', await placements(ta2));
  await a11y(ta2, 'camp-keyboard');
  await tabTo(ta2, '#finish');
  await press('Enter');
  await ta2.waitForSelector('#confirm[open]');
  await press('Enter');
  check('ta2 finishes', await visible(ta2, '#done-title >> text=Test finished'));

  // ======================================================= the results on central ==
  const mgr2 = await page();
  check('the sync manager logs in again', await login(mgr2, 'sm-a', /\/sync\.html$/));
  check('the button syncs the results', await syncByButton(mgr2, 2));
  const dec = outpost(['--data', C, 'decrypt-results', '--all']);
  check('central decrypts the results', dec.status === 0, dec.stdout + dec.stderr);
  const want = { Q01: { RESPONSE: ['FR ZF', 'ES ZE'] }, Q02: { TENTS: ['80 80', '300 200'], FLAG: '200 60' } };
  for (const who of ['ta1', 'ta2', 'ta3']) {
    const rid = sqlite(C, `SELECT id FROM results WHERE execution_id = '${execs[who]}'`);
    const shown = outpost(['--data', C, 'results', 'show', rid]);
    let res = null;
    try { res = JSON.parse(shown.stdout); } catch (e) { check(`${who}: results show prints JSON`, false, shown.stdout + shown.stderr); continue; }
    const items = (res.outcome && res.outcome.items) || {};
    const given = { Q01: items.Q01 && items.Q01.responses, Q02: items.Q02 && items.Q02.responses };
    const canon = (o) => JSON.stringify(o, (k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((x) => [x, v[x]])) : v));
    check(`${who}: central holds the responses given`, canon(given) === canon(want), given);
    fs.writeFileSync(path.join(work, `${who}.json`), JSON.stringify(given));
    const run = JSON.parse(execFileSync(process.env.OUTPOST || world.outpost, ['qti', 'run', '-f', zip, '--responses', path.join(work, `${who}.json`)], { encoding: 'utf8' }));
    for (const [k, score] of [['Q01', 2], ['Q02', 3]]) {
      const got = items[k] && items[k].outcomes && items[k].outcomes.SCORE;
      check(`${who}: ${k} scores ${score} on central, as qti run`, got === score && run.items[k].SCORE === score, `central ${got}, qti run ${run.items[k].SCORE}`);
    }
    check(`${who}: the test total is 5`, res.outcome.outcomes && res.outcome.outcomes.TOTAL === 5, res.outcome.outcomes);
  }
} catch (e) {
  check('the test ran to the end', false, e.stack || String(e));
}
check('no script error, CSP violation or unexpected refusal', w.problems().length === 0, w.problems());
await finish(browser);
