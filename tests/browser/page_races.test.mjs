// @world central+device
// page_races.test.mjs - the device's pages when an answer comes late or a press comes early,
// against the real servers of tests/browser/run.sh. The server answers requests in parallel, a
// loaded machine runs a page's scripts late; the test makes each case happen on purpose, with
// Playwright holding a request (page.route), instead of waiting for bad luck:
//
//  - the login page: while it is still asking whether a session is open, its button is off and
//    Enter sends nothing (the browser would send the form itself, the password in the address);
//    once it listens, the same login goes through;
//  - the proctor's dashboard: a poll sent before "Authorize" and answered after it does not
//    bring back "Waiting for authorization";
//  - the test taker's page: a poll sent before Next and answered after it does not bring back
//    the item the test taker left;
//  - the sync page: while it is still asking for the session, the big button is off; once the
//    page listens, a press syncs;
//  - central's results tab: the answer for the delivery shown first, come after the answer for
//    the delivery chosen then, does not replace it.
import { backofficeLogin, check, deviceLogin as login, finish, loginReady, openWorld, outpost, visible, world } from './lib.mjs';

const C = world.central.dir, D = world.device.dir;
const w = await openWorld({ allow: [/^401 .*\/api\/v1\//] });
const { browser, page } = w;
const until = async (cond, ms) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (cond()) return true;
  return cond();
};

// Holds the GETs of `pathname` a page sends while on: the first is answered by the server at
// once, but its answer is kept from the page until deliver(); the ones after it wait unsent
// until release(). So an answer reaches the page after the page moved on, as the server's
// parallel answers may make it.
function holdGets(p, pathname, opts = {}) {
  const st = { on: true, first: null, later: [] };
  let gotFirst;
  const first = new Promise((r) => { gotFirst = r; });
  const match = (u) => u.pathname === pathname;
  const handler = async (route) => {
    if (route.request().method() !== 'GET' || !st.on) { await route.continue().catch(() => {}); return; }
    if (!st.first) {
      st.first = { route, request: route.request(), response: await route.fetch() };
      gotFirst();
      return;
    }
    if (opts.passLater) await route.continue().catch(() => {});
    else st.later.push(route);
  };
  return {
    start: () => p.route(match, handler),
    first: (ms) => Promise.race([first.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]),
    // the held answer, given to the page; resolves once the page has it
    async deliver() {
      const done = p.waitForEvent('requestfinished', { predicate: (r) => r === st.first.request, timeout: 15000 }).catch(() => null);
      await st.first.route.fulfill({ response: st.first.response }).catch(() => {});
      await done;
    },
    // true once the page sent its next GET: it has done with the answer before (polls wait
    // for their answer before the next)
    next: (ms) => until(() => st.later.length > 0, ms),
    async release() {
      st.on = false;
      await p.unroute(match, handler);
      for (const r of st.later) await r.continue().catch(() => {});
    },
  };
}

// ---- on central: Maths proctored for ta1; the device enrolled and synced ----
let r = outpost(['--data', C, 'eligibilities', 'set', '--center', 'A North', '--delivery', 'Maths', '--test-takers', 'ta1', '--proctored', 'yes']);
check('central: Maths proctored for ta1', r.status === 0, r.stderr);
r = outpost(['--data', D, 'enrol', '--login', 'sm-a', '--password-stdin'], 'pw-sm-a\n');
check('the sync manager enrols the device', r.status === 0, r.stderr);
r = outpost(['--data', D, 'sync']);
check('the device syncs', r.status === 0, r.stderr || r.stdout);

try {
  // ================================================== the login page, pressed early ==
  const ta = await page();
  const addresses = [];
  ta.on('framenavigated', (f) => { if (f === ta.mainFrame()) addresses.push(f.url()); });
  const session = holdGets(ta, '/api/v1/session');
  await session.start();
  await ta.goto(`${world.device.url}/`);
  check('the login page asks whether a session is open (held)', await session.first(15000));
  check('meanwhile its button is off', await ta.isDisabled('#submit'));
  await ta.focus('#login');
  await ta.keyboard.type('ta1');
  await ta.keyboard.press('Tab');
  await ta.keyboard.type('pw-ta1');
  await ta.keyboard.press('Enter');
  const sentEarly = await ta.waitForURL(/password=/, { timeout: 2000 }).then(() => true, () => false);
  check('Enter before the page listens sends nothing', !sentEarly && !addresses.some((u) => /password=/.test(u)), addresses);
  await session.deliver();
  await session.release();
  await loginReady(ta);
  await ta.focus('#password');
  await ta.keyboard.press('Enter');
  await ta.waitForURL(/\/take\.html$/, { timeout: 60000 }).catch(() => {});
  check('once it listens, the same login goes through', /\/take\.html$/.test(ta.url()), ta.url());
  check('the password was never in the address', !addresses.some((u) => /password=/.test(u)), addresses);

  await ta.click('button >> text=Start Maths');
  check('a proctored start waits', await visible(ta, '#waiting', 15000));
  const exec = new URL(ta.url()).searchParams.get('execution');

  // ============================================= the proctor: a poll answered late ==
  const pr = await page();
  check('the proctor logs in', await login(pr, 'pa1', /\/proctor\.html$/));
  const row = `tr[data-id="${exec}"]`;
  check('the proctor sees the test taker waiting', await visible(pr, `${row} >> text=Waiting for authorization`, 15000));
  const list = holdGets(pr, '/api/v1/proctor/executions');
  await list.start();
  check('a poll of the dashboard is sent (held)', await list.first(15000));
  await pr.click(`${row} button[data-action=authorize]`);
  check('Authorize is done', await visible(pr, '#done >> text=/Authorize: done/', 15000));
  check('the row says so', !(await pr.textContent(row)).includes('Waiting for authorization'), await pr.textContent(row));
  await list.deliver();
  check('the dashboard polls again', await list.next(20000));
  check('the poll answered after Authorize does not bring back "Waiting for authorization"',
    !(await pr.textContent(row)).includes('Waiting for authorization'), await pr.textContent(row));
  await list.release();

  // ============================================ the test taker: a poll answered late ==
  const q = (n) => `#item-progress >> text=/^Question ${n} of \\d+$/`;
  check("the taker's page follows the authorization: question 1", await visible(ta, q(1), 20000));
  const polls = holdGets(ta, `/api/v1/executions/${exec}`);
  await polls.start();
  check("a poll of the taker's page is sent (held)", await polls.first(20000));
  await ta.click('#next');
  check('Next shows question 2', await visible(ta, q(2), 15000));
  await polls.deliver();
  check("the taker's page polls again", await polls.next(20000));
  check('the poll answered after Next does not bring back question 1',
    /^Question 2 of /.test(await ta.textContent('#item-progress')), await ta.textContent('#item-progress'));
  await polls.release();

  // ============================================== the sync page, pressed early ==
  const sm = await page();
  check('the sync manager logs in', await login(sm, 'sm-a', /\/sync\.html$/));
  const smSession = holdGets(sm, '/api/v1/session');
  await smSession.start();
  await sm.goto(`${world.device.url}/sync.html`);
  check('the sync page asks for the session (held)', await smSession.first(15000));
  check('meanwhile the big button is off', await sm.isDisabled('#start'));
  await smSession.deliver();
  await smSession.release();
  await sm.click('#start'); // (waits for it to be on)
  check('once the page listens, a press syncs', await visible(sm, '#sync-state >> text=Synchronisation finished successfully.', 60000));

  // ============================================ central's results tab, answered late ==
  const bo = await page();
  check('the super-user logs in to the backoffice', await backofficeLogin(bo, 'admin', 'admin-password'));
  const results = holdGets(bo, '/api/v1/admin/results', { passLater: true });
  await results.start();
  await bo.goto(`${world.central.url}/admin/results.html`);
  check('the results tab asks for the first delivery\'s results (held)', await results.first(15000));
  const labels = await bo.$$eval('#delivery option', (os) => os.map((o) => o.textContent));
  check('central has two deliveries to choose from', labels.length >= 2, labels);
  await bo.selectOption('#delivery', { label: labels[1] });
  const other = await visible(bo, `#count >> text="0 results of ${labels[1]}"`, 15000);
  check(`choosing ${labels[1]} shows its results`, other, await bo.textContent('#count'));
  await results.deliver();
  const back = await bo.waitForFunction((l) => document.getElementById('count').textContent.includes(`of ${l}`), labels[0],
    { timeout: 3000 }).then(() => true, () => false);
  check(`the answer for ${labels[0]}, come later, does not replace them`, !back && (await bo.textContent('#count')) === `0 results of ${labels[1]}`,
    await bo.textContent('#count'));
  await results.release();
} catch (e) {
  check('the test ran to the end', false, e.stack || String(e));
}
check('no script error, CSP violation or unexpected refusal', w.problems().length === 0, w.problems());
await finish(browser);
